"""Whether llama.cpp's repacked CPU kernels (its "extra buffer types") work on this machine.

Some VMs report CPU features (AMX) that the hypervisor does not enable: llama-cpp-python
built with GGML_NATIVE then dies with SIGILL on the first decode of a quantised model
(recipes.md). Loading with the model parameter `use_extra_bufts = False` avoids those
kernels. Whether a machine has the fault cannot be known before a tile instruction runs,
so the engine host learns it from a crash: the verdict is kept in the data dir, keyed by
the llama-cpp-python version and the CPU (model name and flags), and later loads on the
same build and CPU go straight to the safe setting.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from backends.host.crash import REBUILD_LLAMA_CPP

log = logging.getLogger(__name__)

VERDICT_FILE = "llama_cpp_cpu.json"

FALLBACK_NOTICE = (
    "llama.cpp crashed on this CPU (SIGILL in its repacked CPU kernels, which this machine "
    "reports but does not allow), so the model was reloaded without them and the answer "
    "restarted. Prompt processing is slower this way; this is remembered for this "
    f"llama.cpp build and CPU. For full speed, rebuild llama-cpp-python: {REBUILD_LLAMA_CPP}"
)


def _verdict_path() -> Path:
    from backends.paths import data_dir

    return data_dir() / VERDICT_FILE


def _cpu_identity() -> str:
    model, flags = platform.processor() or platform.machine(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and value.strip():
                model = value.strip()
            elif key == "flags" and not flags:
                flags = " ".join(sorted(value.split()))
            if model and flags and key == "":
                break  # the first processor's block is enough
    except OSError:
        pass
    return f"{model} / flags {hashlib.sha256(flags.encode()).hexdigest()[:16]}"


@functools.cache
def build_key() -> str:
    """The llama-cpp-python version and this CPU: what a verdict is valid for.

    Cached: neither changes within a process, and reading the package metadata took
    ~45 ms of the first load in each engine host (a warm spare reads it ahead)."""
    try:
        version = metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"llama-cpp-python {version} on {_cpu_identity()}"


def _read() -> dict[str, Any]:
    try:
        data = json.loads(_verdict_path().read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("ignoring unreadable %s: %s", _verdict_path(), error)
        return {}
    return data if isinstance(data, dict) else {}


def repack_crashes_here() -> bool:
    """True when this build on this CPU has died of SIGILL with the repacked kernels."""
    entry = _read().get(build_key())
    return isinstance(entry, dict) and entry.get("use_extra_bufts") is False


def remember_repack_crash() -> None:
    """Record that this build on this CPU needs `use_extra_bufts = False`."""
    data = _read()
    data[build_key()] = {
        "use_extra_bufts": False,
        "reason": "SIGILL while computing with the repacked CPU kernels",
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    path = _verdict_path()
    try:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)
    except OSError as error:
        log.warning("could not save the llama.cpp CPU verdict to %s: %s", path, error)
