"""Hugging Face pipeline tasks through `transformers.pipeline(task=..., model=local_dir)`.

The task is always explicit (offline, `pipeline()` cannot ask the Hub for it). A batch
goes to the pipeline as a generator, so the pipeline batches (`batch_size`) and yields
each item's output as soon as it is ready: cancel is checked between items, and throughput
matches the bare `pipeline()` over a list. Inputs the pipeline would choke on (a text
without the mask token, an unreadable picture) fail alone as `ItemFailed`; the rest run.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from backends.base import EngineCapabilities, LoadOptions, MemoryFootprint, ModelSpec
from backends.base import ProgressCallback as ProgressCallback
from backends.chat.lifecycle import LoadSteps
from backends.errors import BackendError, GenerationError, UnsupportedModel
from backends.tasks.model_tasks import (
    check_document_model,
    check_model_kind,
    make_runner,
    translation_targets,
)
from backends.tasks.pipeline_outputs import to_result
from backends.tasks.protocol import (
    LABELLED_TASKS,
    MODEL_TASKS,
    TASK_INPUTS,
    BatchFinished,
    BatchStarted,
    ItemDone,
    ItemFailed,
    TaskEvent,
    TaskInput,
    TaskLoadOptions,
    TaskModelInfo,
    TaskOptions,
    canonical_task,
    supported_tasks_text,
)
from backends.tasks.task_detection import has_entailment_label, needs_custom_code, read_config
from backends.tasks.task_inputs import WrongInput, check_mask, open_image, refusal
from backends.tasks.text_budget import TextBudget
from backends.tasks.wav_audio import read_audio


def unsupported_task(task: str) -> UnsupportedModel:
    return UnsupportedModel(
        f"The app does not run the task {task!r}. It runs: {supported_tasks_text()}. "
        "Pick one of those for this model, or use the model elsewhere.",
        title="Unsupported task",
    )


def custom_code_refusal(model_dir: Path) -> UnsupportedModel:
    return UnsupportedModel(
        f"{model_dir.name} needs code from its own repository to run (its config has an "
        "auto_map), and running downloaded code is off (trust_remote_code). The app does not "
        "run such models as tasks; pick a model that uses transformers' own classes.",
        title="Custom code",
    )


class _Slot:
    __slots__ = ("index", "item", "error", "budget")

    def __init__(self, index: int, item: TaskInput) -> None:
        self.index, self.item = index, item
        self.error: BackendError | None = None
        self.budget: tuple[str, int | None] | None = None  # (text seen, truncated_to)


class TransformersTaskEngine:
    name: ClassVar[str] = "transformers_tasks"
    capabilities: ClassVar[EngineCapabilities] = EngineCapabilities(
        cancel=True, load_options=frozenset({"device", "dtype"})
    )

    @classmethod
    def warm_up(cls) -> None:
        """Engine-host hook (in the pre-started spare): import torch, transformers' loading
        machinery and the pipelines ahead of the load, as the chat engine does."""
        from backends.chat.transformers import TransformersEngine

        TransformersEngine.warm_up()
        import transformers.pipelines  # noqa: F401

    def __init__(self) -> None:
        self._pipe: Any = None
        self._info: TaskModelInfo | None = None
        self._pooling = ("mean", False)
        self._budget: TextBudget | None = None
        self._timestamps: bool | str = "word"

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    def model_info(self) -> TaskModelInfo:
        if self._info is None:
            raise GenerationError("No task model is loaded.")
        return self._info

    def load(
        self,
        spec: ModelSpec,
        options: TaskLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.unload()
        try:
            self._load(spec, options, LoadSteps(progress, cancel))
        except BaseException:
            self.unload()
            raise

    def _load(self, spec: ModelSpec, options: TaskLoadOptions, steps: LoadSteps) -> None:
        from backends.chat.transformers import import_runtime, resolve_model_dir
        from backends.chat.transformers_placement import plan_placement, translate_load_error

        task = canonical_task(options.task) or ""
        if task not in TASK_INPUTS:
            raise unsupported_task(task)
        model_dir = resolve_model_dir(spec)
        config = read_config(model_dir)
        if needs_custom_code(config) and not options.trust_remote_code:
            raise custom_code_refusal(model_dir)
        if task == "zero-shot-classification" and not has_entailment_label(config):
            raise UnsupportedModel(
                f"{model_dir.name} has no 'entailment' label, so it cannot do zero-shot "
                "classification, which needs a model trained on NLI (names often end in "
                "-mnli or -nli). Run it as text-classification instead.",
                title="Not an NLI model",
            )
        steps.report(0.05, "Importing transformers")
        import_runtime()
        import torch
        from transformers import pipeline as make_pipeline

        if options.threads:
            torch.set_num_threads(options.threads)
        placement = plan_placement(LoadOptions(device=options.device, dtype=options.dtype))
        steps.check_cancel()
        if task in MODEL_TASKS:
            check_model_kind(task, config, model_dir)
        if task == "document-question-answering":
            check_document_model(config, model_dir)
        steps.report(0.2, "Loading the model")
        try:
            if task in MODEL_TASKS:
                pipe: Any = make_runner(task, model_dir, config, placement.device,
                                        placement.dtype, options.trust_remote_code)  # fmt: skip
            else:
                pipe = make_pipeline(  # type: ignore[call-overload]
                    task=task,
                    model=str(model_dir),
                    device=placement.device,
                    dtype=placement.dtype,
                    trust_remote_code=options.trust_remote_code,
                )
        except Exception as error:
            raise translate_load_error(
                error, model_dir, LoadOptions(trust_remote_code=options.trust_remote_code)
            ) from error
        steps.check_cancel()
        tokenizer = getattr(pipe, "tokenizer", None)
        self._budget = TextBudget(tokenizer, config) if TASK_INPUTS[task] == "text" else None
        self._pooling = _pooling_of(model_dir)
        # Whisper gives segment times; CTC models (wav2vec2) word times.
        self._timestamps = True if config.get("model_type") == "whisper" else "word"
        labels = config.get("id2label") or {}
        self._info = TaskModelInfo(
            task=task,
            input_kind=TASK_INPUTS[task],
            mask_token=getattr(tokenizer, "mask_token", None) if tokenizer else None,
            max_tokens=self._budget.max_tokens if self._budget else None,
            labels=tuple(str(labels[k]) for k in sorted(labels, key=lambda k: int(k))),
            runtime=f"{placement.device} {str(placement.dtype).removeprefix('torch.')}",
            targets=tuple(translation_targets(config)) if task == "translation" else (),
        )
        self._pipe = pipe
        steps.report(1.0, "Ready")

    # -- running ------------------------------------------------------------------------

    def run(
        self,
        items: Sequence[TaskInput],
        options: TaskOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[TaskEvent]:
        pipe, info = self._pipe, self._info
        if pipe is None or info is None:
            raise GenerationError("No task model is loaded. Load one, then run again.")
        cancel = cancel if cancel is not None else threading.Event()
        kwargs = self._call_kwargs(info.task, options)
        if info.task in ("summarization", "translation", "image-to-text"):
            kwargs["cancel"] = cancel  # generate stops at the next token
        started = time.perf_counter()
        yield BatchStarted(len(items))
        done = failed = 0
        pending: deque[_Slot] = deque(_Slot(i, item) for i, item in enumerate(items))
        while pending and not cancel.is_set():
            slots: deque[_Slot] = deque()  # fed to the pipeline, output not yet yielded
            outputs = pipe(self._feed(pending, slots, info, options, cancel), **kwargs)
            try:
                for raw in outputs:
                    for event in self._failures(slots):
                        failed += 1
                        yield event
                    slot = slots.popleft()
                    text, truncated_to = slot.budget or (None, None)
                    result = to_result(info.task, raw, pooling=self._pooling[0],
                                       normalize=self._pooling[1])  # fmt: skip
                    done += 1
                    # No break on a cancel here: the outputs still to come were computed
                    # with this one (a padded batch); the feed and the runners check the
                    # cancel before any more work, so the loop ends with what was made.
                    yield ItemDone(slot.index, slot.item, result, truncated_to, text)
            except Exception as error:  # this item broke the pipeline: it fails, the rest go on
                for event in self._failures(slots):
                    failed += 1
                    yield event
                if not slots:  # not an item's fault: the whole run fails
                    raise GenerationError(_reason(error)) from error
                if slots:
                    slot = slots.popleft()
                    failed += 1
                    yield ItemFailed(slot.index, slot.item, "Could not run", _reason(error))
                pending.extendleft(reversed(slots))  # fed but not run: run them again
                continue
            for event in self._failures(slots):
                failed += 1
                yield event
        stopped = cancel.is_set() and (done + failed) < len(items)
        yield BatchFinished(
            "cancelled" if stopped else "done", done, failed, time.perf_counter() - started
        )

    @staticmethod
    def _failures(slots: deque[_Slot]) -> Iterator[ItemFailed]:
        while slots and slots[0].error is not None:
            slot = slots.popleft()
            error = slot.error
            assert error is not None
            yield ItemFailed(slot.index, slot.item, error.title, error.message)

    def _feed(
        self,
        pending: deque[_Slot],
        slots: deque[_Slot],
        info: TaskModelInfo,
        options: TaskOptions,
        cancel: threading.Event,
    ) -> Iterator[Any]:
        """Each pending item's model input; failures are kept in order in `slots`."""
        while pending and not cancel.is_set():
            slot = pending.popleft()
            slots.append(slot)
            try:
                yield self._model_input(slot, info, options)
            except BackendError as error:
                slot.error = error

    def _model_input(self, slot: _Slot, info: TaskModelInfo, options: TaskOptions) -> Any:
        item = slot.item
        why = refusal(info.task, item)
        if why is not None:
            raise WrongInput(why)
        if item.kind == "image" and info.task == "document-question-answering":
            return {"image": open_image(item.value), "question": options.question}
        if item.kind == "image":
            return open_image(item.value)
        if item.kind == "audio":
            rate = getattr(getattr(self._pipe, "feature_extractor", None), "sampling_rate", 16000)
            return {"raw": read_audio(Path(item.value), rate), "sampling_rate": rate}
        text, truncated_to = item.value, None
        if self._budget is not None:
            reserve = self._budget.hypothesis_tokens(options) if info.task in LABELLED_TASKS else 0
            if info.task in MODEL_TASKS:
                reserve = self._pipe.reserve_tokens(options)
            text, truncated_to = self._budget.fit(item.value, reserve=reserve)
        if info.task == "fill-mask":
            check_mask(text, info.mask_token, truncated_to)
        slot.budget = (text, truncated_to)
        return text

    def _call_kwargs(self, task: str, options: TaskOptions) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"batch_size": max(1, options.batch_size)}
        top_k = max(1, options.top_k)
        if task in ("text-classification", "image-classification", "audio-classification",
                    "fill-mask", "zero-shot-image-classification"):  # fmt: skip
            kwargs["top_k"] = top_k
        if task == "token-classification":
            kwargs["aggregation_strategy"] = options.aggregation_strategy
        if task in LABELLED_TASKS:
            if not options.candidate_labels:
                raise WrongInput(
                    "Zero-shot classification needs labels to choose from. Type them "
                    "separated by commas, e.g. 'sports, politics, music'.",
                    title="No labels",
                )
            kwargs["candidate_labels"] = list(options.candidate_labels)
        if task == "zero-shot-classification":
            kwargs["multi_label"] = options.multi_label
            kwargs["hypothesis_template"] = options.hypothesis_template
        if task == "object-detection":
            kwargs["threshold"] = options.threshold
        if task == "automatic-speech-recognition":
            kwargs["return_timestamps"] = self._timestamps
        if task in ("summarization", "translation", "image-to-text"):
            kwargs["max_new_tokens"] = max(1, options.max_new_tokens)
        if task == "translation":
            self._pipe.prefix_for(options.target)  # a target the model lacks: refused now
            kwargs["target"] = options.target
        if task in ("question-answering", "document-question-answering"):
            if not options.question.strip():
                raise WrongInput("Type the question to answer from the text, then run again.",
                                 title="No question")  # fmt: skip
            if task == "question-answering":
                kwargs["question"] = options.question.strip()
        return kwargs

    # -- unload / memory ------------------------------------------------------------------

    def unload(self) -> None:
        pipe, self._pipe, self._info, self._budget = self._pipe, None, None, None
        if pipe is None:
            return
        del pipe
        gc.collect()

    def memory_footprint(self) -> MemoryFootprint:
        model = getattr(self._pipe, "model", None)
        if model is None:
            return MemoryFootprint()
        size = sum(p.numel() * p.element_size() for p in model.parameters())
        return MemoryFootprint(ram_bytes=size)


def _reason(error: Exception) -> str:
    if isinstance(error, BackendError):
        return error.message
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"The model could not run this input: {first}."


def _pooling_of(model_dir: Path) -> tuple[str, bool]:
    """A sentence-transformers repo's pooling (1_Pooling/config.json) and normalisation."""
    import json

    mode, normalize = "mean", False
    try:
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
        if pooling.get("pooling_mode_cls_token"):
            mode = "cls"
    except (OSError, ValueError):
        pass
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        normalize = any("Normalize" in str(m.get("type", "")) for m in modules)
    except (OSError, ValueError, AttributeError):
        pass
    return mode, normalize
