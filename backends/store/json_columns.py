"""How the JSON-valued columns of the messages table are written and read back: a damaged
value (a crash mid-write, a hand edit) reads as empty rather than breaking the chat."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def dump_names(names: Sequence[str]) -> str | None:
    """A message's attachment names as stored (NULL for none)."""
    return json.dumps(list(names)) if names else None


def load_names(raw: str | None) -> list[str]:
    """The attachment names back; a damaged column reads as none."""
    if not raw:
        return []
    try:
        names = json.loads(raw)
    except ValueError:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def load_json_object(raw: str | None) -> dict[str, Any] | None:
    """A JSON object column (a message's stats, its tools) back; damaged reads as None."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
