"""The model parameters of a llama.cpp load: `use_extra_bufts`, which `Llama()` cannot set.

Off where this build has died of SIGILL in its repacked CPU kernels on this CPU
(`llama_repack.py`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from backends.base import LoadOptions
from backends.chat.llama_native import model_params_lock
from backends.chat.llama_repack import repack_crashes_here


@contextlib.contextmanager
def model_params(llama_cpp: Any, *, use_extra_bufts: bool) -> Iterator[None]:
    """Set `use_extra_bufts` in the model params `Llama.__init__` builds (it has no
    argument for that field): wrap `llama_model_default_params` while it runs."""
    if use_extra_bufts:
        yield
        return
    low_level = llama_cpp.llama_cpp
    original = low_level.llama_model_default_params

    def without_extra_bufts() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    with model_params_lock:  # one load at a time changes the module attribute
        low_level.llama_model_default_params = without_extra_bufts
        try:
            yield
        finally:
            low_level.llama_model_default_params = original


def extra_bufts_allowed(options: LoadOptions) -> bool:
    """The options' wish, unless this build has died of SIGILL with them on this CPU."""
    return options.use_extra_bufts and not repack_crashes_here()
