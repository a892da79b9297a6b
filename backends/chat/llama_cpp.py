"""Chat with a local GGUF file through llama-cpp-python.

llama.cpp's native log goes to `logging`, never the terminal, and explains load failures
(`llama_native.py`); long prompts are evaluated in chunks so Stop works (`llama_prompt.py`);
the repacked-kernel SIGILL fallback lives in `llama_repack.py`.

Prompts are rendered here (the GGUF's own chat template, or a plain transcript plus a
`Notice` for a GGUF without one — never llama-cpp-python's silent llama-2 fallback) and
sampled token by token with `Llama.generate`, so cancel, token counts and streaming are
exact (see `_generate`).
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import logging
import os
import random
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
    FinishReason,
    GenerationParams,
    LoadOptions,
    MemoryFootprint,
    ModelSpec,
    Notice,
    ProgressCallback,
    StreamFinished,
    TextDelta,
)
from backends.chat.images import has_images, refuse_images
from backends.chat.lifecycle import (
    LoadSteps,
    already_answering,
    not_loaded,
    release_freed_memory,
)
from backends.chat.llama_native import (
    explain_load_failure,
    model_params_lock,
    quiet_llama_cpp,
    recent_native_lines,
    warm_llama_cpp,
)
from backends.chat.llama_prompt import context_full_message, evaluate_prompt
from backends.chat.llama_repack import (
    FALLBACK_NOTICE,
    remember_repack_crash,
    repack_crashes_here,
)
from backends.chat.llama_vision import projector_handler, stream_multimodal
from backends.chat.reasoning import prompt_opens_thinking, split_reasoning, thinking_kwargs
from backends.chat.template_messages import (
    template_messages,
    template_takes_tools,
    tools_kwargs,
)
from backends.chat.tool_call_text import collect_tool_calls
from backends.chat.transcript import (
    NO_TEMPLATE_NOTICE,
    TRANSCRIPT_STOPS,
    StopSequenceFilter,
    transcript_prompt,
)
from backends.errors import (
    GenerationError,
    ModelNotFound,
    OutOfMemory,
)
from backends.models.gguf_file import GGUFInfo, read_gguf

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)

N_CTX_STEP = 256  # llama.cpp rounds its context window up to a multiple of this


@contextlib.contextmanager
def _model_params(llama_cpp: Any, *, use_extra_bufts: bool) -> Iterator[None]:
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
            with _model_params(llama_cpp, use_extra_bufts=extra_bufts_allowed(options)):
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
        stops: list[str] = []
        if info.chat_template:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            eos_id, bos_id = llm.token_eos(), llm.token_bos()
            formatter = Jinja2ChatFormatter(
                template=info.chat_template,
                eos_token=llm._model.token_get_text(eos_id) if eos_id != -1 else "",
                bos_token=llm._model.token_get_text(bos_id) if bos_id != -1 else "",
                add_generation_prompt=True,
            )
            try:
                chat: Any = template_messages(messages)
                rendered = formatter(
                    messages=chat, **thinking_kwargs(params), **tools_kwargs(params)
                )
            except Exception as error:  # jinja errors vary; any of them means the same
                raise GenerationError(
                    f"This model's chat template failed on the conversation ({error}). "
                    "Try starting a new chat."
                ) from error
            prompt, add_bos = rendered.prompt, not rendered.added_special
        else:
            yield NO_TEMPLATE_NOTICE
            prompt, add_bos = transcript_prompt(messages), True
            stops = list(TRANSCRIPT_STOPS)
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=add_bos, special=True)
        if len(tokens) >= llm.n_ctx():
            message = context_full_message(len(tokens), llm.n_ctx(), info, self._key)
            raise GenerationError(message, title="Context window full")
        max_tokens = min(params.max_new_tokens, llm.n_ctx() - len(tokens))
        if not self._lock.acquire(blocking=False):
            raise already_answering()
        try:
            answer = self._generate(llm, tokens, max_tokens, params, stops, cancel, started)
            if prompt_opens_thinking(prompt):  # the template opened <think> already
                answer = split_reasoning(answer, opened=True)
            if params.tools and self.capabilities.tools:
                answer = collect_tool_calls(answer, [tool.name for tool in params.tools])
            yield from answer
        finally:
            self._lock.release()

    @staticmethod
    def _generate(
        llm: Llama,
        tokens: list[int],
        max_tokens: int,
        params: GenerationParams,
        stops: list[str],
        cancel: threading.Event | None,
        started: float,
    ) -> Iterator[ChatEvent]:
        """Sample token by token, so cancel and counts are exact and text is never held.

        llama-cpp-python's own completion stream holds back all further text after a
        token that ends in an incomplete UTF-8 sequence; decoding bytes incrementally
        here shows text as soon as it is whole.
        """
        import llama_cpp

        llm.set_seed(params.seed if params.seed is not None else random.randrange(2**31))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stop_filter = StopSequenceFilter(stops)
        completion: list[int] = []
        ttft: float | None = None
        finish: FinishReason = "length"
        try:
            if not evaluate_prompt(llm, tokens, cancel):
                yield StreamFinished(
                    finish_reason="cancelled",
                    prompt_tokens=len(tokens),
                    completion_tokens=0,
                    ttft_s=None,
                    total_s=time.perf_counter() - started,
                )
                return
            for token in llm.generate(
                tokens,
                top_k=params.top_k,
                top_p=params.top_p,
                min_p=0.0,
                temp=max(params.temperature, 0.0),
                repeat_penalty=params.repetition_penalty,
            ):
                if cancel is not None and cancel.is_set():
                    finish = "cancelled"
                    break
                if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
                    finish = "stop"
                    break
                completion.append(token)
                text = stop_filter.feed(decoder.decode(llm.detokenize([token])))
                if ttft is None:  # SentencePiece answers start with the word's space
                    text = text.lstrip(" ")
                if text:
                    if ttft is None:
                        ttft = time.perf_counter() - started
                    yield TextDelta(text)
                if stop_filter.stopped:
                    finish = "stop"
                    break
                if len(completion) >= max_tokens:
                    if max_tokens < params.max_new_tokens:
                        finish = "context"  # the window filled before max_new_tokens
                    break
        except MemoryError as error:
            raise OutOfMemory(
                "Ran out of memory while answering. Lower the context size or pick a smaller "
                "quantisation."
            ) from error
        except RuntimeError as error:
            raise GenerationError(f"llama.cpp failed while answering: {error}.") from error
        if finish != "cancelled" and cancel is not None and cancel.is_set():
            finish = "cancelled"
        tail = stop_filter.feed(decoder.decode(b"", final=True)) + stop_filter.flush()
        if tail and finish != "cancelled":
            yield TextDelta(tail)
        yield StreamFinished(
            finish_reason=finish,
            prompt_tokens=len(tokens),
            completion_tokens=len(completion),
            ttft_s=ttft,
            total_s=time.perf_counter() - started,
        )

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
