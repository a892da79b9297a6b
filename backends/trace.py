"""Opt-in timestamps along a path that crosses threads (Enter -> request -> first token drawn).

`LOCALAI_TUI_TRACE=FILE` appends one line per `mark(label)`: `perf_counter() label thread`.
perf_counter is CLOCK_MONOTONIC on Linux, the same clock in every process, so a bench that
drives the app (bench/remote_chat.py) lines the marks up with the moment it pressed a key.
Unset (always, outside benches), `mark` is one global lookup and a return.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TextIO

_file: TextIO | None = None
_lock = threading.Lock()


def _open() -> TextIO | None:
    path = os.environ.get("LOCALAI_TUI_TRACE")
    # Line-buffered: a bench reads the marks while the app runs.
    return open(path, "a", buffering=1, encoding="utf-8") if path else None  # noqa: SIM115


_file = _open()


def mark(label: str) -> None:
    """Record that the traced path reached `label` now (nothing when tracing is off)."""
    if _file is None:
        return
    stamp = time.perf_counter()
    with _lock:
        _file.write(f"{stamp:.6f} {label} {threading.current_thread().name}\n")
