"""What parent and child send each other over their socket (pickled tuples), and how
errors cross it.

parent -> child: ("init", target, env, sys_path), ("call" | "iter", rid, method, args,
kwargs, wants_progress, wants_cancel), ("cancel", rid), ("exit",)
child -> parent: ("ready", pid), ("progress", rid, value), ("yield", rid, value),
("yield_many", rid, [values]),
("return", rid, value), ("raise", rid, ErrorInfo)

An exception is sent as an `ErrorInfo`, not pickled: a BackendError subclass is rebuilt
with the same class, title and message whatever its constructor takes, and any other
exception becomes a BackendError carrying its text (the traceback goes to the host log).
"""

from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass

from backends.errors import BackendError

INIT = "init"
CALL = "call"
ITER = "iter"
CANCEL = "cancel"
EXIT = "exit"
READY = "ready"
PROGRESS = "progress"
YIELD = "yield"
YIELD_MANY = "yield_many"  # several items a generator yielded, in order
RETURN = "return"
RAISE = "raise"


@dataclass(frozen=True)
class ErrorInfo:
    module: str
    qualname: str
    message: str
    title: str | None  # None: not a BackendError
    traceback: str


def error_info(error: BaseException) -> ErrorInfo:
    cls = type(error)
    if isinstance(error, BackendError):
        message, title = error.message, error.title
    else:
        message, title = str(error) or cls.__name__, None
    text = "".join(traceback.format_exception(cls, error, error.__traceback__))
    return ErrorInfo(cls.__module__, cls.__qualname__, message, title, text)


def rebuild_error(info: ErrorInfo) -> BackendError:
    """The BackendError to raise in the parent for an error raised in the child."""
    if info.title is not None:
        cls = _find_class(info.module, info.qualname)
        if cls is not None and issubclass(cls, BackendError):
            error = cls.__new__(cls)
            BackendError.__init__(error, info.message, title=info.title)
            return error
        return BackendError(info.message, title=info.title)
    name = info.qualname.rsplit(".", 1)[-1]
    return BackendError(
        f"The engine failed: {name}: {info.message}. See the engine log for details.",
        title="Engine error",
    )


def _find_class(module: str, qualname: str) -> type | None:
    try:
        obj: object = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception:  # a class the parent cannot import: fall back to BackendError
        return None
    return obj if isinstance(obj, type) else None
