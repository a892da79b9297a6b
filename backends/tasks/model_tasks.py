"""The tasks transformers 5 has no pipeline for, run on the model's own classes.

Summarisation and translation go through `AutoModelForSeq2SeqLM.generate` (T5, BART,
Marian, Pegasus…), extractive question answering through `AutoModelForQuestionAnswering`
(the best answer span in the context), captioning through a vision encoder-decoder's
`generate` (`AutoModelForImageTextToText`: VisionEncoderDecoder, BLIP, GIT). Each runner is
called like a pipeline (an iterable of inputs in, one raw dict per input out, in order), so
the task engine's batch loop, cancel and failures work the same for them.

A model of another kind is refused before its weights are read (`check_model_kind`) with
what to do instead: the Tasks screen then offers the task to the chat model as a prompt.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from backends.errors import UnsupportedModel
from backends.tasks.protocol import TASK_TITLES, TaskOptions
from backends.tasks.task_inputs import WrongInput

MAX_ANSWER_TOKENS = 30  # the longest answer span considered, as the old QA pipeline did

_SEQ2SEQ = "a sequence-to-sequence model (T5, BART, Marian, Pegasus…)"
_KINDS = {
    "summarization": ("seq2seq", _SEQ2SEQ),
    "translation": ("seq2seq", _SEQ2SEQ),
    "question-answering": ("qa", "a question-answering model (BERT-QA, RoBERTa-SQuAD…)"),
    "image-to-text": ("caption", "a captioning model (VisionEncoderDecoder, BLIP, GIT)"),
}


def check_model_kind(task: str, config: dict[str, Any], model_dir: Path) -> None:
    """Refuse a model that cannot do `task` with its own classes (no weights read)."""
    from transformers.models.auto import modeling_auto as auto

    kind, wanted = _KINDS[task]
    model_type = str(config.get("model_type", ""))
    mapping = {
        "seq2seq": auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
        "qa": auto.MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES,
        "caption": auto.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
    }[kind]
    chat_vlm = kind == "caption" and model_type not in _CAPTIONERS
    if model_type in mapping and not chat_vlm:
        return
    title = TASK_TITLES[task].lower()
    raise UnsupportedModel(
        f"{model_dir.name} ({model_type or 'unknown type'}) is not {wanted}, so the app cannot "
        f"run {title} on it directly. Load such a model, or press ctrl+g to ask the chat "
        "model instead.",
        title="Not a model for this task",
    )


def check_document_model(config: dict[str, Any], model_dir: Path) -> None:
    """Document QA reads the page with Donut (no OCR) or with LayoutLM over words that
    Tesseract OCR finds: refuse a LayoutLM model where pytesseract is not installed."""
    import importlib.util

    encoder = (config.get("encoder") or {}).get("model_type")
    if encoder == "donut-swin" or importlib.util.find_spec("pytesseract") is not None:
        return
    raise UnsupportedModel(
        f"{model_dir.name} answers from the words Tesseract OCR reads off the page, and "
        "pytesseract is not installed. Install it (pip install pytesseract, and the "
        "tesseract program), or use a Donut model, which reads the page itself.",
        title="Needs OCR",
    )


# Captioners that take a picture alone; other image-text-to-text models are chat VLMs,
# which need a prompt (the chat runs those).
_CAPTIONERS = frozenset({"vision-encoder-decoder", "blip", "git", "pix2struct"})


def task_prefix(config: dict[str, Any], task: str) -> str:
    """The prefix a multi-task model wants ("summarize: " for T5), from its config's
    `task_specific_params`; for translation the first translation_* entry's."""
    if task == "translation":
        return next(iter(translation_targets(config).values()), "")
    params = config.get("task_specific_params") or {}
    entry = params.get(task) if isinstance(params, dict) else None
    if isinstance(entry, dict) and isinstance(entry.get("prefix"), str):
        return str(entry["prefix"])
    return ""


def translation_targets(config: dict[str, Any]) -> dict[str, str]:
    """A multi-task model's translations ("translation_en_to_fr" -> its prefix), in the
    order they are offered; the first is the default. Empty for a one-pair model (Marian)."""
    params = config.get("task_specific_params") or {}
    if not isinstance(params, dict):
        return {}
    targets = {}
    for key in sorted(k for k in params if k.startswith("translation")):
        entry = params[key]
        if isinstance(entry, dict) and isinstance(entry.get("prefix"), str):
            targets[key] = str(entry["prefix"])
    return targets


def target_title(key: str) -> str:
    """ "translation_en_to_fr" -> "en → fr" (a key of another shape is shown as it is)."""
    pair = key.removeprefix("translation_").split("_to_")
    return " → ".join(pair) if len(pair) == 2 and all(pair) else key


class _Runner:
    tokenizer: Any
    model: Any
    feature_extractor: Any = None

    def __init__(self, model_dir: Path, device: str, dtype: Any, trust_remote_code: bool) -> None:
        self._device = device
        self.model = self._model_class().from_pretrained(
            str(model_dir), dtype=dtype, trust_remote_code=trust_remote_code
        )
        self.model.to(device).eval()

    @staticmethod
    def _model_class() -> Any:
        raise NotImplementedError

    def reserve_tokens(self, options: TaskOptions) -> int:
        """Tokens of each input taken by what the runner adds (a prefix, the question)."""
        return 0

    def _generate(
        self, inputs: dict[str, Any], max_new_tokens: int, cancel: threading.Event | None
    ) -> list[str] | None:
        """The decoded outputs, one per row of the batch; None when `cancel` stopped it
        (after the current token, so a cancel lands within one step, not at the end of a
        long generation)."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        class _Cancelled(StoppingCriteria):
            def __call__(self, ids: torch.Tensor, scores: torch.Tensor, **_: Any) -> Any:
                flag = cancel is not None and cancel.is_set()
                return torch.full((ids.shape[0],), flag, dtype=torch.bool, device=ids.device)

        stop = StoppingCriteriaList([_Cancelled()])
        with torch.inference_mode():
            out = self.model.generate(
                **inputs, max_new_tokens=max_new_tokens, stopping_criteria=stop
            )
        if cancel is not None and cancel.is_set():
            return None  # a cut-off summary is not a result
        decoded = self.tokenizer.batch_decode(out, skip_special_tokens=True)
        return [str(text).strip() for text in decoded]


class Seq2SeqRunner(_Runner):
    """Summarisation / translation: {"generated_text": ...} per text.

    `batch_size` texts go through one padded `generate` (a batch file's lines); results
    still come one per text, in order, and a cancel stops the batch under way."""

    def __init__(self, model_dir: Path, device: str, dtype: Any, trust_remote_code: bool,
                 prefix: str = "", targets: dict[str, str] | None = None) -> None:  # fmt: skip
        from transformers import AutoTokenizer

        super().__init__(model_dir, device, dtype, trust_remote_code)
        self.tokenizer = AutoTokenizer.from_pretrained(
            str(model_dir), trust_remote_code=trust_remote_code
        )
        self.prefix = prefix
        self.targets = targets or {}  # translation: the pairs the user may choose between

    def prefix_for(self, target: str) -> str:
        """The prefix of the chosen translation (`target`, a key of `targets`; "" for the
        default)."""
        if not target:
            return self.prefix
        if target not in self.targets:
            offered = ", ".join(target_title(k) for k in self.targets) or "none"
            raise WrongInput(
                f"This model does not translate {target_title(target)}; it offers: {offered}. "
                "Pick one of those in the Target list.",
                title="No such translation",
            )
        return self.targets[target]

    @staticmethod
    def _model_class() -> Any:
        from transformers import AutoModelForSeq2SeqLM

        return AutoModelForSeq2SeqLM

    def reserve_tokens(self, options: TaskOptions) -> int:
        prefix = self.prefix_for(options.target)
        if not prefix:
            return 0
        return len(self.tokenizer(prefix, add_special_tokens=False)["input_ids"])

    def __call__(
        self, inputs: Iterable[str], *, max_new_tokens: int = 64,
        cancel: threading.Event | None = None, target: str = "", batch_size: int = 1,
        **_: Any,
    ) -> Iterator[dict[str, Any]]:  # fmt: skip
        import itertools

        prefix = self.prefix_for(target)
        texts = iter(inputs)
        while batch := list(itertools.islice(texts, max(1, batch_size))):
            encoded = self.tokenizer([prefix + t for t in batch], return_tensors="pt",
                                     truncation=True, padding=True)  # fmt: skip
            generated = self._generate(encoded.to(self._device), max_new_tokens, cancel)
            if generated is None:
                return
            for text in generated:
                yield {"generated_text": text}


class CaptionRunner(_Runner):
    """Image captioning: {"generated_text": ...} per picture."""

    def __init__(self, model_dir: Path, device: str, dtype: Any, trust_remote_code: bool) -> None:
        from transformers import AutoImageProcessor, AutoTokenizer

        super().__init__(model_dir, device, dtype, trust_remote_code)
        self._processor = AutoImageProcessor.from_pretrained(str(model_dir))
        self.tokenizer = AutoTokenizer.from_pretrained(
            str(model_dir), trust_remote_code=trust_remote_code
        )
        self._dtype = dtype

    @staticmethod
    def _model_class() -> Any:
        from transformers import AutoModelForImageTextToText

        return AutoModelForImageTextToText

    def __call__(
        self, inputs: Iterable[Any], *, max_new_tokens: int = 64,
        cancel: threading.Event | None = None, **_: Any,
    ) -> Iterator[dict[str, Any]]:  # fmt: skip
        for image in inputs:
            pixels = self._processor(images=image, return_tensors="pt")["pixel_values"]
            pixels = pixels.to(self._device, dtype=self._dtype)
            generated = self._generate({"pixel_values": pixels}, max_new_tokens, cancel)
            if generated is None:
                return
            yield {"generated_text": generated[0]}


class QuestionAnsweringRunner(_Runner):
    """Extractive QA: the context span with the highest start × end probability."""

    def __init__(self, model_dir: Path, device: str, dtype: Any, trust_remote_code: bool) -> None:
        from transformers import AutoTokenizer

        super().__init__(model_dir, device, dtype, trust_remote_code)
        self.tokenizer = AutoTokenizer.from_pretrained(
            str(model_dir), trust_remote_code=trust_remote_code
        )

    @staticmethod
    def _model_class() -> Any:
        from transformers import AutoModelForQuestionAnswering

        return AutoModelForQuestionAnswering

    def reserve_tokens(self, options: TaskOptions) -> int:
        return len(self.tokenizer(options.question, add_special_tokens=False)["input_ids"])

    def __call__(
        self, inputs: Iterable[str], *, question: str = "", **_: Any
    ) -> Iterator[dict[str, Any]]:
        for context in inputs:
            yield self.answer(question, context)

    def answer(self, question: str, context: str) -> dict[str, Any]:
        import torch

        encoded = self.tokenizer(
            question, context, truncation="only_second", return_offsets_mapping=True,
            return_tensors="pt",
        )  # fmt: skip
        offsets = encoded.pop("offset_mapping")[0].tolist()
        in_context = [s == 1 for s in encoded.sequence_ids(0)]
        with torch.inference_mode():
            out = self.model(**encoded.to(self._device))
        start, end, score = best_span(
            out.start_logits[0].float().cpu().tolist(),
            out.end_logits[0].float().cpu().tolist(),
            in_context,
        )
        first, last = int(offsets[start][0]), int(offsets[end][1])
        return {"answer": context[first:last], "score": score, "start": first, "end": last,
                "question": question}  # fmt: skip


def best_span(
    start_logits: list[float], end_logits: list[float], allowed: list[bool]
) -> tuple[int, int, float]:
    """(start, end, score): the allowed span (end ≥ start, at most MAX_ANSWER_TOKENS)
    with the highest p(start) × p(end), each a softmax over the allowed tokens."""
    import math

    def softmax(logits: list[float]) -> list[float]:
        top = max(v for v, ok in zip(logits, allowed, strict=True) if ok)
        exp = [math.exp(v - top) if ok else 0.0 for v, ok in zip(logits, allowed, strict=True)]
        total = sum(exp)
        return [e / total for e in exp]

    if not any(allowed):
        raise UnsupportedModel(
            "The question leaves no room for the context in what this model reads. Ask a "
            "shorter question.",
            title="Question too long",
        )
    p_start, p_end = softmax(start_logits), softmax(end_logits)
    best = (-1.0, 0, 0)
    for i, ps in enumerate(p_start):
        if not allowed[i]:
            continue
        for j in range(i, min(len(p_end), i + MAX_ANSWER_TOKENS)):
            if allowed[j] and ps * p_end[j] > best[0]:
                best = (ps * p_end[j], i, j)
    return best[1], best[2], best[0]


def make_runner(
    task: str, model_dir: Path, config: dict[str, Any], device: str, dtype: Any,
    trust_remote_code: bool,
) -> _Runner:  # fmt: skip
    """The runner for one of MODEL_TASKS (check_model_kind first)."""
    if task in ("summarization", "translation"):
        prefix = task_prefix(config, task)
        targets = translation_targets(config) if task == "translation" else {}
        return Seq2SeqRunner(model_dir, device, dtype, trust_remote_code, prefix, targets)
    if task == "question-answering":
        return QuestionAnsweringRunner(model_dir, device, dtype, trust_remote_code)
    return CaptionRunner(model_dir, device, dtype, trust_remote_code)
