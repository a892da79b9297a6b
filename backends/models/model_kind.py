"""What a model on disk is for: chat, image, speech, text to speech, a pipeline task, or a
task no engine here runs.

The engine decides the kind (`backends.registry.engine_kind`), except for a transformers
repo whose task (saved `pipeline_tag`, README front matter) is neither chat nor a task the
Tasks screen runs (text-to-speech in transformers format, depth estimation,
image segmentation...): such a repo keeps that task in `ModelSpec.task` and is "unsupported", so no
picker offers it as a chat model. Cheap: no runtime is imported.
"""

from __future__ import annotations

from backends.base import ModelSpec
from backends.errors import UnsupportedModel
from backends.registry import engine_kind
from backends.tasks.protocol import TASK_INPUTS, supported_tasks_text

# Hub pipeline tags of repos the chat engines run (a repo without a tag is taken for chat
# when its architecture names no task).
CHAT_TASKS = frozenset({"text-generation", "image-text-to-text", "conversational", "any-to-any"})
UNSUPPORTED = "unsupported"
KIND_LABELS = {
    "chat": "chat",
    "image": "image",
    "speech": "speech",
    "tts": "TTS",
    "embeddings": "embeddings",
}
# Where each kind of model runs: the place in tui/navigation.py and its title.
KIND_PLACES = {
    "chat": "Chat",
    "image": "Images",
    "speech": "Speech",
    "tts": "Speech (Speak tab)",
    "tasks": "Tasks",
    "embeddings": "Tasks",
}


def is_unsupported_task(task: str | None) -> bool:
    """A known task that is neither chat nor one the Tasks screen runs."""
    return bool(task) and task not in CHAT_TASKS and task not in TASK_INPUTS


def model_kind(spec: ModelSpec) -> str:
    """ "chat", "image", "speech", "tts", "embeddings", "tasks" or "unsupported"."""
    kind = engine_kind(spec.engine)
    if kind == "chat" and is_unsupported_task(spec.task):
        return UNSUPPORTED
    return kind


def kind_label(spec: ModelSpec) -> str:
    """A few words for a Kind column: "chat", "TTS", "token-classification", or
    "depth-estimation · not supported"."""
    return label_of_kind(model_kind(spec), spec.task)


def label_of_kind(kind: str, task: str | None = None) -> str:
    if kind == UNSUPPORTED:
        return f"{task} · not supported"
    if kind == "tasks":
        return task or "task"
    return KIND_LABELS.get(kind, kind)


def unsupported_reason(spec: ModelSpec) -> UnsupportedModel:
    """Why a model of an unsupported task cannot be run here, and what can."""
    return UnsupportedModel(
        f"{spec.name} is a {spec.task} model: no engine here runs that task. The Tasks screen "
        f"runs {supported_tasks_text()}; chat takes text-generation and image-text-to-text "
        "models.",
        title=f"{spec.task} is not supported",
    )
