"""What the machine is doing right now: RAM, CPU, and per-GPU VRAM, utilisation and heat.

`DeviceMonitor.sample()` is cheap enough to call once a second from a worker thread:
psutil for RAM/CPU, NVML (nvidia-ml-py) for NVIDIA GPUs. Where there is no NVIDIA driver,
NVML fails to initialise once; that answer is cached and reported as `gpu_note`, never retried
every second. torch's own allocator is read only when torch is already imported by someone
else: the monitor never imports torch (1.2 s, and it would pin hundreds of MB).
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import psutil

from backends.host.client import HostInfo, live_hosts


@dataclass(frozen=True)
class GpuSample:
    """One NVIDIA GPU at one moment. Fields NVML does not report for this card are None."""

    index: int
    name: str
    memory_used: int  # bytes, all processes
    memory_total: int  # bytes
    utilization_percent: float | None
    temperature_c: float | None
    process_memory: int | None  # bytes this process holds on the card; None: NVML can't tell


@dataclass(frozen=True)
class DeviceSnapshot:
    """The whole machine at one moment, as the device gauge shows it."""

    ram_used: int  # bytes in use system-wide (total minus available)
    ram_total: int
    process_rss: int  # this process's resident memory
    cpu_percent: float  # system-wide, since the previous sample
    gpus: tuple[GpuSample, ...] = ()
    torch_allocated: dict[str, int] = field(default_factory=dict)  # "cuda:0" -> bytes
    mps_allocated: int | None = None  # bytes torch holds on Apple MPS
    gpu_note: str | None = None  # why `gpus` is empty or incomplete, for the user
    hosts: tuple[HostInfo, ...] = ()  # engine host processes: their RSS (and VRAM by pid)

    @property
    def tree_rss(self) -> int:
        """The app's resident memory with its engine hosts'."""
        return self.process_rss + sum(h.rss_bytes for h in self.hosts)


class DeviceMonitor:
    """Samples RAM, CPU and GPUs. Thread-safe; NVML is initialised on the first sample.

    Construction is cheap (no NVML call) so it can happen on the UI thread; the first
    `sample()` — normally in a worker — pays for `nvmlInit`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process = psutil.Process(os.getpid())
        # psutil's first cpu_percent(None) compares against nothing and returns 0.0: prime it.
        psutil.cpu_percent(None)
        self._nvml: Any = None  # the pynvml module once initialised
        self._nvml_tried = False
        self._nvml_note: str | None = None
        self._handles: list[Any] = []
        self._names: list[str] = []

    def sample(self) -> DeviceSnapshot:
        with self._lock:
            memory = psutil.virtual_memory()
            gpus, note = self._sample_gpus()
            return DeviceSnapshot(
                ram_used=int(memory.total - memory.available),
                ram_total=int(memory.total),
                process_rss=int(self._process.memory_info().rss),
                cpu_percent=float(psutil.cpu_percent(None)),
                gpus=gpus,
                torch_allocated=_torch_cuda_allocated(),
                mps_allocated=_torch_mps_allocated(),
                gpu_note=note,
                hosts=_hosts(),
            )

    def close(self) -> None:
        """Shut NVML down; safe to call twice. A later sample() initialises it again."""
        with self._lock:
            if self._nvml is not None:
                try:
                    self._nvml.nvmlShutdown()
                except self._nvml.NVMLError:
                    pass
            self._nvml = None
            self._nvml_tried = False
            self._nvml_note = None
            self._handles = []
            self._names = []

    # -- NVML -------------------------------------------------------------------------------

    def _init_nvml(self) -> None:
        self._nvml_tried = True
        try:
            import pynvml
        except ImportError:
            self._nvml_note = "No GPU monitoring (nvidia-ml-py is not installed)"
            return
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError_LibraryNotFound:
            self._nvml_note = "No NVIDIA GPU (NVML not found)"
            return
        except pynvml.NVMLError as error:
            self._nvml_note = f"No NVIDIA GPU ({_nvml_reason(error)})"
            return
        try:
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._names = [_text(pynvml.nvmlDeviceGetName(h)) for h in self._handles]
        except pynvml.NVMLError as error:
            self._nvml_note = f"GPU monitoring failed ({_nvml_reason(error)})"
            pynvml.nvmlShutdown()
            return
        self._nvml = pynvml
        if not self._handles:
            self._nvml_note = "No NVIDIA GPU (the driver reports none)"

    def _sample_gpus(self) -> tuple[tuple[GpuSample, ...], str | None]:
        if not self._nvml_tried:
            self._init_nvml()
        if self._nvml is None:
            return (), self._nvml_note
        pynvml = self._nvml
        pid = os.getpid()
        samples: list[GpuSample] = []
        note = self._nvml_note
        for index, handle in enumerate(self._handles):
            try:
                memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            except pynvml.NVMLError as error:
                # A card that fell off the bus (Xid 79) or was reset: say so, keep the others.
                note = f"GPU {index} not responding ({_nvml_reason(error)})"
                continue
            samples.append(
                GpuSample(
                    index=index,
                    name=self._names[index],
                    memory_used=int(memory.used),
                    memory_total=int(memory.total),
                    utilization_percent=_optional(
                        lambda h=handle: float(pynvml.nvmlDeviceGetUtilizationRates(h).gpu),
                        pynvml,
                    ),
                    temperature_c=_optional(
                        lambda h=handle: float(
                            pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU)
                        ),
                        pynvml,
                    ),
                    process_memory=_process_vram(pynvml, handle, pid),
                )
            )
        return tuple(samples), note


def _hosts() -> tuple[HostInfo, ...]:
    try:
        return tuple(live_hosts(include_spare=True))
    except Exception:  # a host exiting mid-reading; the next sample has it right
        return ()


def _optional(read: Any, pynvml: Any) -> Any:
    """A reading some cards don't support (NVMLError_NotSupported) becomes None."""
    try:
        return read()
    except pynvml.NVMLError:
        return None


def _process_vram(pynvml: Any, handle: Any, pid: int) -> int | None:
    """Bytes this pid holds on the card; 0 when it holds nothing; None when NVML can't tell.

    Inside a container NVML may list host pids, so our pid is absent even when we do use
    the card; torch_allocated then is the better figure.
    """
    getter = getattr(pynvml, "nvmlDeviceGetComputeRunningProcesses", None)
    if getter is None:
        return None
    try:
        processes = getter(handle)
    except pynvml.NVMLError:
        return None
    total = 0
    for process in processes:
        if process.pid == pid:
            used = process.usedGpuMemory
            if used is None:  # NVML_VALUE_NOT_AVAILABLE (e.g. Windows WDDM)
                return None
            total += int(used)
    return total


def _torch_cuda_allocated() -> dict[str, int]:
    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    try:
        # is_initialized() keeps us from creating a CUDA context nobody asked for.
        if not torch.cuda.is_initialized():
            return {}
        return {
            f"cuda:{i}": int(torch.cuda.memory_allocated(i))
            for i in range(torch.cuda.device_count())
        }
    except Exception:  # torch half-imported by another thread, or a driver error
        return {}


def _torch_mps_allocated() -> int | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if not torch.backends.mps.is_available():
            return None
        return int(torch.mps.current_allocated_memory())
    except Exception:  # torch half-imported by another thread, or an old torch without mps
        return None


def _text(value: str | bytes) -> str:
    """nvidia-ml-py returns str; older pynvml releases returned bytes."""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _nvml_reason(error: Exception) -> str:
    return str(error) or type(error).__name__
