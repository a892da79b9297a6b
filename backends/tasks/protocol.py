"""The task contract: Hugging Face pipeline tasks beyond chat, run over many inputs.

A task engine loads one model for one task (always explicit: offline, `pipeline()` cannot
look a task up) and runs a batch of inputs, yielding `BatchStarted`, then one
`ItemDone` or `ItemFailed` per input in order, then exactly one `BatchFinished`, also when
cancelled (cancel is checked between items). Every event and result is a frozen,
picklable dataclass, so the engine can run in a host process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol, runtime_checkable

from backends.base import Device, DType, MemoryFootprint, ModelSpec, ProgressCallback

InputKind = Literal["text", "image", "audio"]
AggregationStrategy = Literal["none", "simple", "first", "average", "max"]

# The tasks the app runs, and what each takes. transformers 5 dropped the summarization,
# translation, question-answering and image-to-text pipelines: those (MODEL_TASKS) run on
# the model's own classes (`model_tasks.py`); the rest through `pipeline()`.
TASK_INPUTS: dict[str, InputKind] = {
    "text-classification": "text",
    "token-classification": "text",
    "fill-mask": "text",
    "zero-shot-classification": "text",
    "feature-extraction": "text",
    "image-classification": "image",
    "zero-shot-image-classification": "image",
    "object-detection": "image",
    "audio-classification": "audio",
    "automatic-speech-recognition": "audio",
    "image-to-text": "image",
    "document-question-answering": "image",
    "summarization": "text",
    "translation": "text",
    "question-answering": "text",
}
MODEL_TASKS = frozenset({"image-to-text", "summarization", "translation", "question-answering"})
# Hub pipeline_tags that are names for one of the tasks above.
TASK_ALIASES: dict[str, str] = {
    "sentiment-analysis": "text-classification",
    "ner": "token-classification",
    "sentence-similarity": "feature-extraction",
}
TASK_TITLES: dict[str, str] = {
    "text-classification": "Text classification",
    "token-classification": "Named entities",
    "fill-mask": "Fill mask",
    "zero-shot-classification": "Zero-shot classification",
    "feature-extraction": "Embeddings / similarity",
    "image-classification": "Image classification",
    "zero-shot-image-classification": "Zero-shot image classification",
    "object-detection": "Object detection",
    "audio-classification": "Audio classification",
    "automatic-speech-recognition": "Speech recognition",
    "image-to-text": "Image captioning",
    "document-question-answering": "Document question answering",
    "summarization": "Summarisation",
    "translation": "Translation",
    "question-answering": "Question answering",
}
# Tasks that need labels from the user.
LABELLED_TASKS = frozenset({"zero-shot-classification", "zero-shot-image-classification"})


def supported_tasks_text() -> str:
    return ", ".join(TASK_INPUTS)


def canonical_task(tag: str | None) -> str | None:
    """A Hub pipeline_tag as the task name the app uses (aliases resolved)."""
    if not tag:
        return None
    return TASK_ALIASES.get(tag, tag)


@dataclass(frozen=True)
class TaskLoadOptions:
    """How to load a task model. `threads` None leaves torch's default."""

    task: str
    device: Device = "auto"
    dtype: DType = "auto"
    threads: int | None = None
    trust_remote_code: bool = False


@dataclass(frozen=True)
class TaskInput:
    """One item: typed text, or a file (an image or audio path; a text file is read by the
    caller). `label` is what a result table shows for it (the text, or the file's name)."""

    kind: InputKind
    value: str
    label: str = ""


@dataclass(frozen=True)
class TaskOptions:
    """One run's choices; each task reads the fields that apply to it."""

    top_k: int = 5
    aggregation_strategy: AggregationStrategy = "simple"
    candidate_labels: tuple[str, ...] = ()
    multi_label: bool = False
    hypothesis_template: str = "This example is {}."
    threshold: float = 0.5  # object detection: detections below it are not returned
    batch_size: int = 1
    question: str = ""  # (document) question answering: asked of each text or page
    max_new_tokens: int = 64  # summarisation, translation, captioning
    target: str = ""  # translation: one of TaskModelInfo.targets; "" the model's first


@dataclass(frozen=True)
class LabelScore:
    label: str
    score: float


@dataclass(frozen=True)
class Entity:
    """A labelled span of the input text (characters start..end)."""

    group: str
    word: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class MaskFill:
    token: str
    score: float
    sequence: str  # the input with this token in the mask's place


@dataclass(frozen=True)
class Box:
    xmin: int
    ymin: int
    xmax: int
    ymax: int


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: Box


@dataclass(frozen=True)
class Embedding:
    """The input's vector, mean-pooled over its tokens (feature-extraction is unpooled)."""

    vector: tuple[float, ...]
    tokens: int


@dataclass(frozen=True)
class Transcript:
    text: str
    chunks: tuple[tuple[float | None, float | None, str], ...] = ()


@dataclass(frozen=True)
class GeneratedText:
    """A summary, a translation or a caption: the model's decoded output."""

    text: str


@dataclass(frozen=True)
class Answer:
    """The span of the context (characters start..end) that answers the question; for a
    document (a picture) start and end are -1, and score is None where the model gives none
    (Donut writes its answer)."""

    answer: str
    score: float | None
    start: int
    end: int
    question: str = ""


TaskResult = (
    tuple[LabelScore, ...]
    | tuple[Entity, ...]
    | tuple[MaskFill, ...]
    | tuple[Detection, ...]
    | Embedding
    | Transcript
    | GeneratedText
    | Answer
)


@dataclass(frozen=True)
class TaskModelInfo:
    """What the loaded model is, for the views (asked once after a load)."""

    task: str
    input_kind: InputKind
    mask_token: str | None = None
    max_tokens: int | None = None  # longest text input, in tokens
    labels: tuple[str, ...] = ()  # the model's own labels (id2label), if any
    runtime: str = ""  # "cpu float32"
    targets: tuple[str, ...] = ()  # translation: the pairs a multi-task model (T5) offers


@dataclass(frozen=True)
class BatchStarted:
    total: int


@dataclass(frozen=True)
class ItemDone:
    index: int
    item: TaskInput
    result: TaskResult
    truncated_to: int | None = None  # the text was cut to this many tokens
    text: str | None = None  # the text the model saw (after truncation)


@dataclass(frozen=True)
class ItemFailed:
    index: int
    item: TaskInput
    title: str
    message: str


@dataclass(frozen=True)
class BatchFinished:
    reason: Literal["done", "cancelled"]
    done: int
    failed: int
    elapsed_s: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def items_per_s(self) -> float | None:
        return (self.done + self.failed) / self.elapsed_s if self.elapsed_s > 0 else None


TaskEvent = BatchStarted | ItemDone | ItemFailed | BatchFinished


@runtime_checkable
class TaskEngine(Protocol):
    name: ClassVar[str]

    def load(
        self,
        spec: ModelSpec,
        options: TaskLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Load the model for `options.task`; a BackendError subclass with a clear message."""
        ...

    def model_info(self) -> TaskModelInfo: ...

    def run(
        self,
        items: Sequence[TaskInput],
        options: TaskOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[TaskEvent]:
        """BatchStarted, an ItemDone/ItemFailed per item in order, then BatchFinished."""
        ...

    def unload(self) -> None: ...

    @property
    def loaded(self) -> bool: ...

    def memory_footprint(self) -> MemoryFootprint: ...
