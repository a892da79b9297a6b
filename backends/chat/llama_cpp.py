"""Chat with a local GGUF file through llama-cpp-python.

llama.cpp's native log goes to `logging`, never the terminal, and explains load failures
(`llama_native.py`); long prompts are evaluated in chunks so Stop works (`llama_prompt.py`);
the repacked-kernel SIGILL fallback lives in `llama_repack.py`.

Prompts are rendered from the GGUF's own chat template, or a plain transcript plus a
`Notice` for a GGUF without one (`llama_template.py`, which also reads thinking and tool
calls back out of the answer), and sampled token by token with `Llama.generate`, so
cancel, token counts and streaming are exact (`llama_sampling.py`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from backends import paths
from backends.base import (
    ChatEvent,
    ChatMessage,
    EngineCapabilities,
    GenerationParams,
    LoadOptions,
    MemoryFootprint,
    ModelSpec,
    Notice,
    ProgressCallback,
)
from backends.chat.images import has_images, refuse_images
from backends.chat.lifecycle import (
    LoadSteps,
    already_answering,
    not_loaded,
    release_freed_memory,
)
from backends.chat.llama_model_params import extra_bufts_allowed, model_params
from backends.chat.llama_native import (
    explain_load_failure,
    quiet_llama_cpp,
    recent_native_lines,
    warm_llama_cpp,
)
from backends.chat.llama_prompt import context_full_message
from backends.chat.llama_repack import (
    FALLBACK_NOTICE,
    remember_repack_crash,
)
from backends.chat.llama_sampling import sample_answer
from backends.chat.llama_template import read_answer, render_prompt
from backends.chat.llama_vision import projector_handler, stream_multimodal
from backends.chat.template_messages import template_takes_tools
from backends.chat.transcript import NO_TEMPLATE_NOTICE
from backends.errors import GenerationError, ModelNotFound, OutOfMemory
from backends.models.gguf_file import GGUFInfo, read_gguf

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)

N_CTX_STEP = 256  # llama.cpp rounds its context window up to a multiple of this


class LlamaCppEngine:
    """A ChatEngine over llama-cpp-python; one model at a time."""

    name: ClassVar[str] = "llama_cpp"
    # vision: only a model loaded with its mmproj projector (spec.projector) sees; `load`
    # says so in the instance's capabilities.
    capabilities: EngineCapabilities = EngineCapabilities(
        load_options=frozenset(
            {"n_ctx", "n_gpu_layers", "n_threads", "n_threads_batch", "use_extra_bufts"}
        ),
    )

    @classmethod
    def warm_up(cls) -> None:
        """Engine-host hook: a warm spare host does a process's first-load work ahead."""
        warm_llama_cpp()

    @classmethod
    def options_after_crash(
        cls, signal_number: int, options: LoadOptions
    ) -> tuple[LoadOptions, str] | None:
        """Engine-host hook: how to load again after the host died of `signal_number`.

        SIGILL with the repacked CPU kernels on: remember that for this build and CPU,
        and load without them (slower prompt processing, but it runs).
        """
        if signal_number != signal.SIGILL or not extra_bufts_allowed(options):
            return None
        remember_repack_crash()
        return dataclasses.replace(options, use_extra_bufts=False), FALLBACK_NOTICE

    def __init__(self) -> None:
        self._llm: Llama | None = None
        self._info: GGUFInfo | None = None
        self._n_gpu_layers = 0
        self._key = ""  # the model key, for the n_ctx setting an overflow error names
        self._lock = threading.Lock()  # one stream at a time on one context
        self._vision = False  # loaded with a projector
        self._name = "This model"
        self._load_notices: list[str] = []  # said with the first answer after a load

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    @property
    def info(self) -> GGUFInfo | None:
        """The GGUF header of the loaded model."""
        return self._info

    def load(
        self,
        spec: ModelSpec,
        options: LoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.unload()
        try:
            self._load(spec, options, LoadSteps(progress, cancel))
        except BaseException:
            self.unload()  # a failed or cancelled load leaves nothing behind
            raise

    def _load(self, spec: ModelSpec, options: LoadOptions, steps: LoadSteps) -> None:
        if not spec.path:
            raise ModelNotFound(
                f"{spec.name} has no local GGUF file. Download it first, then load it."
            )
        steps.report(0.0, "Checking file")
        info = read_gguf(spec.path)
        steps.check_cancel()
        llama_cpp = quiet_llama_cpp()
        steps.report(0.1, "Loading weights")
        cores = os.cpu_count() or 1
        n_ctx = options.n_ctx
        if info.context_length and n_ctx > info.context_length:
            n_ctx = info.context_length
        self._load_notices = []
        padded = -(-n_ctx // N_CTX_STEP) * N_CTX_STEP
        if padded != n_ctx and options.n_ctx % N_CTX_STEP:
            # llama.cpp pads the window to a multiple of 256 and llama-cpp-python's own
            # buffers keep the size asked for: a prompt longer than that failed with a raw
            # numpy ValueError ("could not broadcast input array"). Ask for the padded size.
            self._load_notices.append(
                f"n_ctx = {n_ctx} is not a multiple of {N_CTX_STEP}, which llama.cpp needs: "
                f"{spec.name} uses {padded} tokens. Set n_ctx = {padded} in "
                f'{paths.config_file()} [models."{spec.key}"] to silence this.'
            )
        n_ctx = padded
        recent_native_lines.clear()
        vision: dict[str, Any] = {}
        if spec.projector:
            vision["chat_handler"] = projector_handler(llama_cpp, spec.projector)
        try:
            with model_params(llama_cpp, use_extra_bufts=extra_bufts_allowed(options)):
                llm = llama_cpp.Llama(
                    model_path=spec.path,
                    n_ctx=n_ctx,
                    n_gpu_layers=options.n_gpu_layers,
                    # Prompt evaluation on every core collapsed whenever anything else wanted
                    # one (llama.cpp's threads wait on each other): on 2 busy cores a 70-token
                    # prompt took up to 7.9 s with 2 threads, at most 0.9 s with 1.
                    n_threads=options.n_threads or max(1, cores - 1),
                    n_threads_batch=options.n_threads_batch or max(1, cores - 1),
                    verbose=False,
                    **vision,
                )
        except MemoryError as error:
            raise OutOfMemory(
                "There is not enough memory to load this model. Close other programs, "
                "lower the context size or pick a smaller quantisation."
            ) from error
        except (ValueError, RuntimeError, OSError) as error:
            raise explain_load_failure(spec.path, info, error) from error
        self._llm = llm
        self._info = info
        self._key = spec.key
        self._vision, self._name = bool(spec.projector), spec.name
        self.capabilities = dataclasses.replace(
            type(self).capabilities,
            vision=self._vision,
            tools=template_takes_tools(info.chat_template),
            chat_template=bool(info.chat_template),
        )
        self._n_gpu_layers = self._offloaded_layers(options.n_gpu_layers, info, llama_cpp)
        steps.check_cancel()
        steps.report(1.0, "Ready")

    @staticmethod
    def _offloaded_layers(requested: int, info: GGUFInfo, llama_cpp: Any) -> int:
        if not llama_cpp.llama_supports_gpu_offload():
            return 0
        blocks = info.block_count or 0
        return blocks if requested < 0 else min(requested, blocks)

    def stream(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[ChatEvent]:
        llm, info = self._llm, self._info
        if llm is None or info is None:
            raise not_loaded()
        started = time.perf_counter()
        for notice in self._load_notices:
            yield Notice(notice)
        self._load_notices = []  # said once, with the first answer
        if has_images(messages):
            if not self._vision:
                refuse_images(messages, self._name, "It has no vision projector (mmproj file).")
            if not self._lock.acquire(blocking=False):
                raise already_answering()
            try:
                yield from stream_multimodal(llm, messages, params, cancel, started)
            finally:
                self._lock.release()
            return
        prompt, add_bos, stops = render_prompt(llm, info.chat_template, messages, params)
        if not info.chat_template:
            yield NO_TEMPLATE_NOTICE
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=add_bos, special=True)
        if len(tokens) >= llm.n_ctx():
            message = context_full_message(len(tokens), llm.n_ctx(), info, self._key)
            raise GenerationError(message, title="Context window full")
        max_tokens = min(params.max_new_tokens, llm.n_ctx() - len(tokens))
        if not self._lock.acquire(blocking=False):
            raise already_answering()
        try:
            answer = self._generate(llm, tokens, max_tokens, params, stops, cancel, started)
            yield from read_answer(answer, prompt, params, self.capabilities.tools)
        finally:
            self._lock.release()

    # The sampling loop (llama_sampling.py), as an attribute so tests can script it.
    _generate = staticmethod(sample_answer)

    def unload(self) -> None:
        llm, self._llm, self._info = self._llm, None, None
        self._vision = False
        self.capabilities = type(self).capabilities
        if llm is not None:
            with contextlib.suppress(Exception):
                llm.close()
            # Dropping the last reference frees the Llama object (it is in no cycle once
            # closed); a full gc only when something still holds it: gc.collect() took
            # ~80 ms in the app, most of what a switch cost beyond the load itself.
            alive = weakref.ref(llm)
            del llm
            release_freed_memory(collect=alive() is not None)

    def memory_footprint(self) -> MemoryFootprint:
        """An estimate: the mapped file, split by the share of layers offloaded to a GPU.

        llama.cpp does not report its buffers through the Python API, so weights count
        as RAM (mmap) unless layers were offloaded; the KV cache is not included.
        """
        info = self._info
        if self._llm is None or info is None:
            return MemoryFootprint()
        blocks = info.block_count or 0
        share = self._n_gpu_layers / blocks if blocks else 0.0
        vram = int(info.size_bytes * share)
        return MemoryFootprint(ram_bytes=info.size_bytes - vram, vram_bytes=vram)
