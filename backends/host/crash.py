"""Why a host died, in words a user can act on.

A host that dies by a signal becomes an `EngineCrashed` (a BackendError): SIGILL gets the
CPU-feature explanation and the fix; SIGKILL while memory was nearly full says the system
stopped it for lack of memory, with what the model held and what was free; SIGABRT and
SIGSEGV quote the last native log lines (a GGML_ASSERT, say) and give the log's path.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path

from backends.errors import BackendError

# Memory counts as "nearly full" when less than this share of RAM, or this many bytes,
# was available at the last reading before a SIGKILL.
NEARLY_FULL_SHARE = 0.10
NEARLY_FULL_BYTES = 512 * 1024 * 1024
HOST_MOST_SHARE = 0.5  # a SIGKILLed host that held this share of RAM: the OOM killer
LOG_TAIL_LINES = 6
HOST_LOG_PREFIX = "[host]"  # the host's own lines, left out of the tail a user sees
_NATIVE_DEATHS = {
    int(signal.SIGABRT): "aborted (SIGABRT), usually a failed check in native code",
    int(signal.SIGSEGV): "crashed in native code (SIGSEGV)",
    int(signal.SIGBUS): "crashed reading memory (SIGBUS), e.g. a model file changed on disk",
}

REBUILD_LLAMA_CPP = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON '
    '-DGGML_F16C=ON -DGGML_AVX512=ON" pip install --no-cache-dir --force-reinstall '
    "llama-cpp-python"
)


class EngineCrashed(BackendError):
    """The engine's host process died; the app and the conversation are fine."""

    title = "Engine crashed"

    def __init__(
        self,
        message: str,
        *,
        title: str | None = None,
        signal_number: int | None = None,
        returncode: int | None = None,
        log_path: Path | None = None,
    ) -> None:
        super().__init__(message, title=title)
        self.signal_number = signal_number
        self.returncode = returncode
        self.log_path = log_path


@dataclass(frozen=True)
class MemoryReading:
    """The host's resident memory and the machine's available memory at one moment."""

    host_rss: int
    available: int
    total: int

    @property
    def nearly_full(self) -> bool:
        """Memory was short, or the host held most of it: readings come every 0.5 s, and
        a model that is still loading can fill the rest between two of them."""
        return (
            self.available < max(self.total * NEARLY_FULL_SHARE, NEARLY_FULL_BYTES)
            or self.host_rss >= self.total * HOST_MOST_SHARE
        )


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def log_tail(path: Path | None, lines: int = LOG_TAIL_LINES, *, since: int = 0) -> list[str]:
    """The last non-empty lines of a host log written after byte `since` (at most 64 KiB
    read from its end): what the host said during the request that failed."""
    if path is None:
        return []
    try:
        with open(path, "rb") as file:
            file.seek(0, 2)
            size = file.tell()
            file.seek(max(since, size - 65536))
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    kept = [
        line.rstrip()
        for line in text.splitlines()
        if line.strip() and not line.startswith(HOST_LOG_PREFIX)
    ]
    return kept[-lines:]


def _gib(count: int) -> str:
    return f"{count / 1024**3:.1f} GiB" if count >= 1024**3 else f"{count / 1024**2:.0f} MB"


def explain_exit(
    returncode: int | None,
    *,
    label: str,
    log_path: Path | None,
    memory: MemoryReading | None = None,
    log_since: int = 0,
) -> EngineCrashed:
    """The error for a host that ended unasked; `returncode` < 0 is death by a signal.

    `log_since`: where in the log the failing request began; only its lines are quoted.
    """
    where = f" The engine log is {log_path}." if log_path is not None else ""
    if returncode is None or returncode >= 0:
        return EngineCrashed(
            f"The {label} engine process ended unexpectedly (exit code {returncode}). The "
            f"conversation is kept; send the message again or reload the model.{where}",
            returncode=returncode,
            log_path=log_path,
        )
    number = -returncode
    name = signal_name(number)
    common: dict[str, object] = {
        "signal_number": number,
        "returncode": returncode,
        "log_path": log_path,
    }
    if number == signal.SIGILL:
        return EngineCrashed(
            f"The {label} engine stopped on an instruction this CPU refused (SIGILL). Its "
            "native library was built for CPU features this machine reports but does not "
            "allow (common on cloud VMs, e.g. AMX). For llama.cpp, rebuild it without "
            f"native flags: {REBUILD_LLAMA_CPP}. The conversation is kept.{where}",
            title="Engine crashed: CPU feature",
            **common,  # type: ignore[arg-type]
        )
    if number == signal.SIGKILL:
        if memory is not None and memory.nearly_full:
            return EngineCrashed(
                f"The {label} engine was stopped by the system for lack of memory: it held "
                f"{_gib(memory.host_rss)} and only {_gib(memory.available)} of "
                f"{_gib(memory.total)} was free. Close other programs, pick a smaller "
                "model or quantisation, or lower the context size. The conversation is "
                f"kept.{where}",
                title="Out of memory",
                **common,  # type: ignore[arg-type]
            )
        return EngineCrashed(
            f"The {label} engine process was killed (SIGKILL) by something outside the "
            "app. The conversation is kept; send the message again or reload the "
            f"model.{where}",
            **common,  # type: ignore[arg-type]
        )
    tail = log_tail(log_path, since=log_since)
    said = ("\nLast lines of its log:\n" + "\n".join(tail)) if tail else ""
    what = _NATIVE_DEATHS.get(number, f"died of {name}")
    return EngineCrashed(
        f"The {label} engine {what}. The model file may be damaged or not supported by "
        "this build; try another quantisation or update the runtime. The conversation is "
        f"kept.{where}{said}",
        **common,  # type: ignore[arg-type]
    )
