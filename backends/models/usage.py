"""When each model was last loaded, as the app recorded it (the cache screen's "Last used").

File access times cannot say this: most Linux mounts use `relatime` (atime moves at most once
a day, and only when it is older than mtime) or `noatime`, and huggingface_hub's
`last_accessed` is that atime. So the model manager records every successful load here, in a
small JSON file in the data dir, and the inventory reads it; a model never loaded shows "—".

Keys (see `usage_keys`): "hf:<repo_id>" and "hf:<repo_id>@<commit>" for models in the HF
cache (the commit read from the snapshot path), and "path:<real path>" for any local file or
folder, so a GGUF in a user folder and the demo file are found by their path.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backends.base import ModelSpec

log = logging.getLogger(__name__)

USAGE_FILE = "model_usage.json"


def default_usage_path() -> Path:
    from backends.paths import data_dir

    return data_dir() / USAGE_FILE


def path_key(path: str | Path) -> str:
    return f"path:{os.path.realpath(os.path.expanduser(path))}"


def snapshot_commit(path: str | Path) -> str | None:
    """The commit of an HF cache snapshot path (".../snapshots/<commit>/..."), else None."""
    parts = Path(path).parts
    if "snapshots" not in parts:
        return None
    index = len(parts) - 1 - parts[::-1].index("snapshots")
    return parts[index + 1] if index + 1 < len(parts) else None


def usage_keys(spec: ModelSpec) -> list[str]:
    """Every key a load of `spec` is recorded under (none for server models)."""
    keys: list[str] = []
    if spec.repo_id and spec.source == "hf-cache":
        keys.append(f"hf:{spec.repo_id}")
        commit = snapshot_commit(spec.path) if spec.path else None
        if commit:
            keys.append(f"hf:{spec.repo_id}@{commit}")
    if spec.path:
        keys.append(path_key(spec.path))
    return keys


def read_usage(path: Path | None = None) -> dict[str, float]:
    """Key -> epoch seconds of the last load; empty when nothing was recorded yet."""
    path = path or default_usage_path()
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
        return {}
    if not isinstance(raw, dict):
        return {}
    return {k: float(v) for k, v in raw.items() if isinstance(v, (int, float))}


def record_use(spec: ModelSpec, path: Path | None = None, when: float | None = None) -> None:
    """Remember that `spec` was just loaded. Never raises: a failed write only costs the date."""
    keys = usage_keys(spec)
    if not keys:
        return
    path = path or default_usage_path()
    stamp = time.time() if when is None else when
    usage = read_usage(path)
    usage.update(dict.fromkeys(keys, stamp))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(usage, indent=1, sort_keys=True))
        tmp.replace(path)
    except OSError as exc:
        log.warning("could not record model use in %s: %s", path, exc)


def last_used(usage: Mapping[str, float], *keys: str) -> float | None:
    """The latest recorded load under any of `keys`, or None."""
    found = [usage[k] for k in keys if k in usage]
    return max(found) if found else None
