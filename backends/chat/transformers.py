"""Chat with a local Hugging Face model through transformers (+ PEFT adapters).

Loading always reads a local directory with `local_files_only=True`: a spec's `path`, or
the snapshot of `repo_id` already in the HF cache. It never reaches the Hub.
Generation runs `model.generate` in a daemon thread that feeds a streamer; a
`StoppingCriteria` watching the cancel event ends it after the current token, and a long
prompt is read in chunks first (`transformers_prompt.py`) so that a stop lands between them.
The conversation becomes generate()'s inputs in transformers_inputs.py.
Placement, dtype and quantisation choices live in transformers_placement.py; the runtime
import, the model folder and PEFT adapters in transformers_loading.py.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from backends.base import (
    ChatEvent,
    ChatMessage,
    EngineCapabilities,
    FinishReason,
    GenerationParams,
    LoadOptions,
    MemoryFootprint,
    ModelSpec,
    ProgressCallback,
    StreamFinished,
)
from backends.chat.images import refuse_images
from backends.chat.lifecycle import (
    LoadSteps,
    already_answering,
    not_loaded,
    release_freed_memory,
)
from backends.chat.reasoning import ReasoningSplitter, as_events, prompt_opens_thinking
from backends.chat.template_messages import template_takes_tools
from backends.chat.tool_call_text import collect_tool_calls
from backends.chat.transcript import NO_TEMPLATE_NOTICE
from backends.chat.transformers_inputs import encode_conversation, new_token_cap
from backends.chat.transformers_loading import apply_adapters, import_runtime, resolve_model_dir
from backends.chat.transformers_placement import (
    model_load_kwargs,
    out_of_memory,
    plan_placement,
    translate_load_error,
)
from backends.chat.transformers_prompt import cache_argument, read_prompt
from backends.chat.transformers_streamer import TokenStreamer
from backends.chat.transformers_vision import is_vision_model, to_model
from backends.errors import GenerationError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)


class TransformersEngine:
    """A ChatEngine over transformers' AutoModelForCausalLM; one model at a time."""

    name: ClassVar[str] = "transformers"
    # vision: only image-text-to-text models (LLaVA, SmolVLM, Qwen2.5-VL, Gemma 3...)
    # whose processor has an image processor; `load` says so in the instance's capabilities.
    capabilities: EngineCapabilities = EngineCapabilities(
        load_options=frozenset(
            {"device", "dtype", "quantization", "trust_remote_code", "adapters"}
        ),
    )

    @classmethod
    def warm_up(cls) -> None:
        """Engine-host hook: import torch and transformers' loading machinery ahead of the
        load, in a spare host, so a switch does not wait for them.

        `from transformers import AutoModelForCausalLM` alone is lazy: the first
        `from_pretrained` in a process then imported modeling_utils, core_model_loading
        and the generation code, 7-11 s on this busy 2-core box.
        """
        import_runtime()
        import transformers.core_model_loading  # noqa: F401
        import transformers.generation.utils  # noqa: F401
        import transformers.modeling_utils  # noqa: F401
        from transformers import (  # noqa: F401
            AutoConfig,
            AutoModelForCausalLM,
            AutoTokenizer,
            PreTrainedTokenizerFast,
        )

        # transformers 5 compiles ~940 regexes into a per-process cache on the first
        # from_pretrained (0.5-0.9 s here); an internal function, hence the guard.
        try:
            from transformers.conversion_mapping import get_checkpoint_conversion_mapping

            get_checkpoint_conversion_mapping("llama")
        except (ImportError, AttributeError, TypeError):
            pass

    def __init__(self) -> None:
        self._model: PreTrainedModel | None = None
        self._tokenizer: PreTrainedTokenizerBase | None = None
        self._processor: Any = None  # image-text-to-text models: their AutoProcessor
        self._name = "This model"
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(
        self,
        spec: ModelSpec,
        options: LoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.unload()
        self._name = spec.name
        try:
            self._load(spec, options, progress, cancel)
        except BaseException:
            self.unload()  # a failed or cancelled load leaves nothing behind
            raise

    def _load(
        self,
        spec: ModelSpec,
        options: LoadOptions,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> None:
        steps = LoadSteps(progress, cancel)

        import_runtime()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model_dir = resolve_model_dir(spec)
        placement = plan_placement(options)
        vision = is_vision_model(model_dir)
        steps.check_cancel()
        steps.report(0.05, "Loading processor" if vision else "Loading tokenizer")
        common: dict[str, Any] = {
            "local_files_only": True,
            "trust_remote_code": options.trust_remote_code,
        }
        model_class: Any = AutoModelForCausalLM
        try:
            if vision:
                from transformers import AutoModelForImageTextToText, AutoProcessor

                self._processor = AutoProcessor.from_pretrained(model_dir, **common)
                tokenizer = self._processor.tokenizer
                model_class = AutoModelForImageTextToText
            else:
                tokenizer = AutoTokenizer.from_pretrained(model_dir, **common)
        except Exception as error:
            raise translate_load_error(error, model_dir, options) from error
        steps.check_cancel()
        steps.report(0.15, "Loading weights")
        try:
            model: Any = model_class.from_pretrained(
                model_dir, **common, **model_load_kwargs(placement)
            )
            if placement.move_to is not None:
                model = model.to(placement.move_to)
        except Exception as error:
            raise translate_load_error(error, model_dir, options) from error
        model.eval()
        self._model, self._tokenizer = model, tokenizer
        sees = getattr(self._processor, "image_processor", None) is not None
        templated = sees or bool(getattr(tokenizer, "chat_template", None))
        self.capabilities = dataclasses.replace(
            type(self).capabilities,
            vision=sees,
            chat_template=templated,
            tools=template_takes_tools(getattr(tokenizer, "chat_template", None)),
        )
        steps.check_cancel()
        if options.adapters:
            steps.report(0.85, "Applying adapters")
            self._model = apply_adapters(model, options.adapters, placement.quantized)
            steps.check_cancel()
        steps.report(1.0, "Ready")

    def stream(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[ChatEvent]:
        answer = self._stream(messages, params, cancel)
        if params.tools and self.capabilities.tools:  # calls written in the text
            answer = collect_tool_calls(answer, [tool.name for tool in params.tools])
        return answer

    def _stream(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: threading.Event | None,
    ) -> Iterator[ChatEvent]:
        model: Any = self._model
        tokenizer = self._tokenizer
        if model is None or tokenizer is None:
            raise not_loaded()
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        started = time.perf_counter()
        processor = self._processor
        if not self.capabilities.vision:
            refuse_images(messages, self._name, "It is a text-only transformers model.")
        prompt = encode_conversation(tokenizer, processor, messages, params)
        if not prompt.templated:
            yield NO_TEMPLATE_NOTICE
        encoded, stop_filter = prompt.encoded, prompt.stop_filter
        input_ids = encoded["input_ids"].to(model.device)
        # The template opened <think> in the prompt (DeepSeek-R1): the output starts inside.
        opened = prompt_opens_thinking(str(tokenizer.decode(input_ids[0, -8:].tolist())))
        attention_mask = encoded["attention_mask"].to(model.device)
        max_new = new_token_cap(model, int(input_ids.shape[-1]), params.max_new_tokens)
        # Vision inputs (pixel_values, image sizes...) in the model's dtype and place.
        extra_inputs = {
            key: to_model(value, model)
            for key, value in encoded.items()
            if key not in ("input_ids", "attention_mask")
        }
        eos = model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
        if tokenizer.eos_token_id is not None:
            eos_ids.add(tokenizer.eos_token_id)
        streamer = TokenStreamer(tokenizer, eos_ids)
        stop_now = threading.Event()  # also set when the reader goes away mid-stream

        class _Cancelled(StoppingCriteria):
            def __call__(self, ids: torch.Tensor, scores: torch.Tensor, **_: Any) -> Any:
                flag = stop_now.is_set() or (cancel is not None and cancel.is_set())
                return torch.full((ids.shape[0],), flag, dtype=torch.bool, device=ids.device)

        sample = params.temperature > 0
        kwargs: dict[str, Any] = {
            **extra_inputs,
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "max_new_tokens": max_new,
            "do_sample": sample,
            "repetition_penalty": params.repetition_penalty,
            "streamer": streamer,
            "stopping_criteria": StoppingCriteriaList([_Cancelled()]),
            "pad_token_id": tokenizer.pad_token_id
            if tokenizer.pad_token_id is not None
            else next(iter(eos_ids), None),
        }
        if sample:
            kwargs.update(temperature=params.temperature, top_k=params.top_k, top_p=params.top_p)
        else:  # greedy: unset sampling knobs a model's generation_config may carry
            kwargs.update(temperature=None, top_k=None, top_p=None)

        def stopped() -> bool:
            return stop_now.is_set() or (cancel is not None and cancel.is_set())

        def run() -> None:
            try:
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                with torch.inference_mode():
                    # Text models only: vision models place image features (and
                    # positions, e.g. Qwen2-VL's rope deltas) during generate's own prefill.
                    if cancel is not None and processor is None:
                        cache = read_prompt(model, input_ids, stopped)
                        if cache is False:
                            return  # stopped while the prompt was read
                        if cache is not None:
                            kwargs[cache_argument(model.base_model)] = cache
                    model.generate(**kwargs)
            except BaseException as error:  # handed to the reading thread, raised there
                streamer.fail(error)
            finally:
                streamer.end()

        if not self._lock.acquire(blocking=False):
            raise already_answering()
        thread = threading.Thread(target=run, name="transformers-generate", daemon=True)
        ttft: float | None = None
        splitter = ReasoningSplitter(opened=True) if opened else None
        try:
            thread.start()
            for piece in streamer:
                text = stop_filter.feed(piece)
                if text:
                    if ttft is None:
                        ttft = time.perf_counter() - started
                    yield from as_events(splitter, text)
                if stop_filter.stopped or (cancel is not None and cancel.is_set()):
                    stop_now.set()
                    break
            tail = stop_filter.flush()
            if tail and not (cancel is not None and cancel.is_set()):
                yield from as_events(splitter, tail)
            if splitter is not None:
                yield from as_events(splitter, None)
        except MemoryError as error:
            raise out_of_memory(error) from error
        except Exception as error:
            if type(error).__name__ == "OutOfMemoryError":
                raise out_of_memory(error) from error
            raise GenerationError(f"Generation failed: {error}. Try again.") from error
        finally:
            stop_now.set()
            thread.join()
            self._lock.release()
        finish: FinishReason
        if cancel is not None and cancel.is_set():
            finish = "cancelled"
        elif streamer.ended_by_eos or stop_filter.stopped:
            finish = "stop"
        elif streamer.generated >= max_new:
            finish = "length" if max_new == params.max_new_tokens else "context"
        else:
            finish = "stop"
        yield StreamFinished(
            finish_reason=finish,
            prompt_tokens=int(input_ids.shape[-1]),
            completion_tokens=streamer.generated,
            ttft_s=ttft,
            total_s=time.perf_counter() - started,
        )

    def unload(self) -> None:
        model, self._model, self._tokenizer = self._model, None, None
        self._processor = None
        self.capabilities = type(self).capabilities
        if model is None:
            return
        # A loaded model is in no reference cycle, so dropping the last reference frees
        # it; a full gc only when something still holds it: gc.collect() took 180-240 ms
        # with torch and transformers imported, most of a model switch's cost.
        alive = weakref.ref(model)
        del model
        release_freed_memory(collect=alive() is not None)
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()

    def memory_footprint(self) -> MemoryFootprint:
        """Bytes of parameters and buffers, split by where they live (GPU or RAM)."""
        model = self._model
        if model is None:
            return MemoryFootprint()
        ram = vram = 0
        for tensor in [*model.parameters(), *model.buffers()]:
            size = tensor.numel() * tensor.element_size()
            if tensor.device.type in ("cuda", "mps"):
                vram += size
            else:
                ram += size
        return MemoryFootprint(ram_bytes=ram, vram_bytes=vram)
