"""Which tools the user said "always allow" to, remembered in a small JSON file in the data
dir (beside the recent models), keyed "source/tool" so an MCP server cannot borrow the
app's permission by naming a tool the same."""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


class AlwaysAllowed:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: set[str] = set()
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
            self._keys = (
                {k for k in value if isinstance(k, str)} if isinstance(value, list) else set()
            )
        except (OSError, ValueError):
            pass  # none yet, or unreadable: ask again

    @staticmethod
    def key(source: str, tool: str) -> str:
        return f"{source}/{tool}"

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        self._keys.add(key)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(sorted(self._keys)), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:
            log.exception("could not save the tool permissions")  # remembered this session
