"""What every chat engine does around load and stream: progress, cancel checks, the
not-loaded and busy errors, so all engines word them the same way."""

from __future__ import annotations

import ctypes
import gc
import sys
import threading

from backends.base import LoadProgress, ProgressCallback
from backends.errors import GenerationError, LoadCancelled


class LoadSteps:
    """Reports load stages and stops a load between them when `cancel` is set."""

    def __init__(self, progress: ProgressCallback | None, cancel: threading.Event | None) -> None:
        self._progress = progress
        self._cancel = cancel

    def report(self, fraction: float | None, message: str) -> None:
        if self._progress is not None:
            self._progress(LoadProgress(fraction, message))

    def check_cancel(self) -> None:
        """Raise LoadCancelled if the user cancelled; the engine then releases what it holds."""
        if self._cancel is not None and self._cancel.is_set():
            raise LoadCancelled("Loading was cancelled. Pick the model again to load it.")


def not_loaded() -> GenerationError:
    return GenerationError("No model is loaded. Load a model, then send the message again.")


def already_answering() -> GenerationError:
    return GenerationError("This model is already answering. Wait for it or stop that answer.")


def release_freed_memory(*, collect: bool = True) -> None:
    """Collect garbage (unless `collect` is False: a full collection took ~80 ms in the
    app's process), then give the heap glibc keeps for reuse back to the system.

    After `unload`, glibc holds on to freed heap pages: the process RSS stayed ~20 MB
    (1.3x) above its pre-load level after unloading the SmolLM2 demo in llama.cpp, and
    the device gauge would show memory that no model holds. `malloc_trim(0)` returns them
    (bench/model_switch.py: 1.31 -> 0.99 of the pre-load RSS). Other C libraries: gc only.
    """
    if collect:
        gc.collect()
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        pass
