"""VRAM held by given processes, from NVML; nothing (and no error) where there is no GPU.

NVML's first failure (no driver, no library) is remembered, so a gauge that asks every
second pays for it once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

_lock = threading.Lock()
_state: dict[str, Any] = {"tried": False, "nvml": None}


def _nvml() -> Any:
    if not _state["tried"]:
        _state["tried"] = True
        try:
            import pynvml

            pynvml.nvmlInit()
            _state["nvml"] = pynvml
        except Exception:  # ImportError, NVMLError_LibraryNotFound, driver errors
            _state["nvml"] = None
    return _state["nvml"]


def vram_by_pid(pids: Iterable[int]) -> dict[int, int]:
    """Bytes each pid holds over all GPUs (absent: none, or NVML cannot tell)."""
    wanted = set(pids)
    found: dict[int, int] = {}
    with _lock:
        pynvml = _nvml()
        if pynvml is None or not wanted:
            return found
        try:
            handles = [
                pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
            ]
        except pynvml.NVMLError:
            return found
        for handle in handles:
            try:
                processes = pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
            except pynvml.NVMLError:
                continue
            for process in processes:
                used = process.usedGpuMemory
                if process.pid in wanted and used is not None:
                    found[process.pid] = found.get(process.pid, 0) + int(used)
    return found
