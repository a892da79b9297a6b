"""llama.cpp's native log, routed to `logging` instead of the terminal, and what it explains.

llama-cpp-python with `verbose=False` points file descriptors 1 and 2 at /dev/null while a
model loads, which would swallow the frames Textual draws on stderr when the engine runs in
the app's process; with `verbose=True` it prints model metadata onto the terminal. So the
fd redirection becomes a no-op and the native log goes through `llama_log_set` to
`logging` (in an engine host it lands in the host's log file). The recent lines also
explain load failures that llama.cpp itself reports only as "Failed to load model from
file".
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from typing import Any

from backends.errors import BackendError, CorruptModel, OutOfMemory, UnsupportedModel
from backends.models.gguf_file import GGUFInfo
from backends.registry import missing_runtime

log = logging.getLogger(__name__)
native_log = logging.getLogger("backends.chat.llama_cpp.native")
# Without any handler configured, logging's last resort would print warnings on stderr,
# which is the terminal Textual draws on; the app's own handlers still get every record.
native_log.addHandler(logging.NullHandler())

# ggml_log_level -> logging level: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5 (the
# continuation of the previous line). llama_cpp._logger still maps the older enum.
_LEVELS = {0: logging.INFO, 1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING,
           4: logging.ERROR}  # fmt: skip
recent_native_lines: deque[str] = deque(maxlen=40)
model_params_lock = threading.Lock()
_log_callback: Any = None  # the ctypes callback; kept alive for as long as llama.cpp may call it


def quiet_llama_cpp() -> Any:
    """Import llama_cpp with its terminal output routed to `logging`; idempotent."""
    global _log_callback
    try:
        import llama_cpp
        import llama_cpp._internals
        import llama_cpp.llama
        import llama_cpp.llama_chat_format
    except ImportError as error:
        raise missing_runtime("llama_cpp", "llama-cpp-python") from error
    with model_params_lock:
        if _log_callback is not None:
            return llama_cpp
        for module in (llama_cpp.llama, llama_cpp._internals, llama_cpp.llama_chat_format):
            if hasattr(module, "suppress_stdout_stderr"):
                module.suppress_stdout_stderr = _no_redirect  # type: ignore[attr-defined]
            else:  # pragma: no cover - a llama-cpp-python that changed its internals
                log.warning("llama_cpp %s has no suppress_stdout_stderr", module.__name__)
        last_level = [logging.INFO]

        def route(level: int, text: bytes, _user_data: Any) -> None:
            py_level = last_level[0] if level == 5 else _LEVELS.get(level, logging.INFO)
            last_level[0] = py_level
            line = text.decode("utf-8", errors="replace").rstrip("\n")
            if line:
                recent_native_lines.append(line)
                native_log.log(py_level, "%s", line)

        _log_callback = llama_cpp.llama_log_callback(route)
        llama_cpp.llama_log_set(_log_callback, None)
    return llama_cpp


class _NoRedirect:
    """Stands in for llama_cpp's `suppress_stdout_stderr`: leaves fds 1 and 2 alone."""

    def __init__(self, disable: bool = True) -> None:
        self.disable = disable

    def __enter__(self) -> _NoRedirect:
        return self

    def __exit__(self, *_: object) -> None:
        return None


_no_redirect = _NoRedirect


# A tiny template compiled once by `warm_llama_cpp` (only jinja's caches matter).
WARM_UP_TEMPLATE = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"


def warm_llama_cpp() -> None:
    """Do a process's first-load work ahead of the load (a warm spare engine host).

    Measured (tiny GGUF, this 2-core box): the first load in a process took 70-80 ms,
    later ones 25-45 ms. The difference: the package metadata read for the CPU verdict
    (~45 ms), the data-dir lookup (platformdirs import, ~15 ms) and the first Jinja chat
    template that `Llama()` compiles (jinja's lexer and regexes, ~20 ms).
    """
    from backends.chat.llama_repack import repack_crashes_here

    llama_cpp = quiet_llama_cpp()
    repack_crashes_here()
    llama_cpp.llama_chat_format.Jinja2ChatFormatter(
        template=WARM_UP_TEMPLATE, eos_token="</s>", bos_token="<s>"
    )


def explain_load_failure(path: str, info: GGUFInfo, error: Exception) -> BackendError:
    """Turn llama.cpp's terse load error into one a user can act on, using its log."""
    native = "\n".join(recent_native_lines)
    lowered = native.lower() + " " + str(error).lower()
    if "unknown model architecture" in lowered:
        return UnsupportedModel(
            f"This llama.cpp build does not know the model architecture "
            f"'{info.architecture}'. Update llama-cpp-python "
            "(pip install -U llama-cpp-python) or pick a model with a supported architecture."
        )
    if any(m in lowered for m in ("failed to allocate", "out of memory", "unable to allocate")):
        return OutOfMemory(
            "llama.cpp could not allocate memory for this model or its context. Lower the "
            "context size, offload fewer layers to the GPU, or pick a smaller quantisation."
        )
    detail = next((ln for ln in reversed(recent_native_lines) if "error" in ln.lower()), "")
    reason = f" llama.cpp said: {detail.strip()}" if detail else ""
    return CorruptModel(
        f"llama.cpp could not load {os.path.basename(path)}.{reason} The file may be damaged "
        "or made for a newer llama.cpp: download it again or update llama-cpp-python."
    )
