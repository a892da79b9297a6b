"""Which pipeline task a model on disk does, read cheaply (no torch, no transformers).

In order: the Hub's `pipeline_tag` saved when the app downloaded the repo
(`model-tasks.json` in the data dir), the `pipeline_tag` in the repo's README front matter,
then the head in config.json's `architectures` (`BertForTokenClassification` ->
token-classification). None when nothing says: the user picks the task.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from backends.tasks.protocol import TASK_INPUTS, canonical_task

log = logging.getLogger(__name__)

TASKS_FILE = "model-tasks.json"
_FRONT_MATTER_TAG = re.compile(r"^pipeline_tag:\s*['\"]?([\w-]+)", re.MULTILINE)

# Architecture name endings -> task (checked in order; the first that matches wins).
_HEADS: tuple[tuple[str, str], ...] = (
    ("ForTokenClassification", "token-classification"),
    ("ForSequenceClassification", "text-classification"),
    ("ForMaskedLM", "fill-mask"),
    ("ForImageClassification", "image-classification"),
    ("ForImageClassificationWithTeacher", "image-classification"),
    ("ForObjectDetection", "object-detection"),
    ("ForAudioClassification", "audio-classification"),
    ("ForCTC", "automatic-speech-recognition"),
    ("ForSpeechSeq2Seq", "automatic-speech-recognition"),
    ("ForQuestionAnswering", "question-answering"),
)
# Whole architecture names that are tasks of their own.
_ARCHITECTURES = {
    "WhisperForConditionalGeneration": "automatic-speech-recognition",
    "CLIPModel": "zero-shot-image-classification",
    "SiglipModel": "zero-shot-image-classification",
    "OwlViTForObjectDetection": "zero-shot-object-detection",
    "VisionEncoderDecoderModel": "image-to-text",
    "BlipForConditionalGeneration": "image-to-text",
    "GitForCausalLM": "image-to-text",
    "MarianMTModel": "translation",
    "BartForConditionalGeneration": "summarization",
    "PegasusForConditionalGeneration": "summarization",
    "T5ForConditionalGeneration": "summarization",  # multi-task: the user may pick translation
}
_ENCODERS = ("BertModel", "RobertaModel", "XLMRobertaModel", "MPNetModel", "DistilBertModel")


@dataclass(frozen=True)
class TaskGuess:
    task: str | None
    source: Literal["download", "readme", "architecture", "none"]


def read_config(model_dir: Path) -> dict[str, Any]:
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def needs_custom_code(config: dict[str, Any]) -> bool:
    """True for a model whose classes ship in its repo (config's `auto_map`)."""
    return bool(config.get("auto_map"))


def architecture_task(config: dict[str, Any], model_dir: Path | None = None) -> str | None:
    """The task config.json's architectures imply (an NLI head -> zero-shot)."""
    names = [str(n) for n in config.get("architectures") or []]
    for name in names:
        if name in _ARCHITECTURES:
            return _ARCHITECTURES[name]
        for ending, task in _HEADS:
            if name.endswith(ending):
                if task == "text-classification" and has_entailment_label(config):
                    return "zero-shot-classification"
                return task
    if model_dir is not None and (model_dir / "modules.json").is_file():
        return "feature-extraction"  # a sentence-transformers repo
    if any(name in _ENCODERS for name in names):
        return "feature-extraction"
    return None


def has_entailment_label(config: dict[str, Any]) -> bool:
    labels = config.get("label2id") or {}
    return any(str(label).lower().startswith("entail") for label in labels)


def readme_task(model_dir: Path) -> str | None:
    """`pipeline_tag:` in README.md's YAML front matter."""
    try:
        text = (model_dir / "README.md").read_text(encoding="utf-8", errors="replace")[:8000]
    except OSError:
        return None
    if not text.startswith("---"):
        return None
    front = text[3:].split("\n---", 1)[0]
    found = _FRONT_MATTER_TAG.search(front)
    return found.group(1) if found else None


def _tasks_file(data_dir: Path | None) -> Path:
    if data_dir is None:
        from backends.paths import data_dir as default_data_dir

        data_dir = default_data_dir()
    return data_dir / TASKS_FILE


def saved_tasks(data_dir: Path | None = None) -> dict[str, str]:
    try:
        saved = json.loads(_tasks_file(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in saved.items()} if isinstance(saved, dict) else {}


def remember_task(repo_id: str, pipeline_tag: str | None, data_dir: Path | None = None) -> None:
    """Keep a downloaded repo's Hub `pipeline_tag` (the Hub is not asked again offline)."""
    if not pipeline_tag:
        return
    path = _tasks_file(data_dir)
    saved = saved_tasks(data_dir)
    if saved.get(repo_id) == pipeline_tag:
        return
    saved[repo_id] = pipeline_tag
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(saved, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError as error:
        log.warning("could not save the task of %s: %s", repo_id, error)


def detect_task(
    model_dir: Path, repo_id: str | None = None, *, data_dir: Path | None = None
) -> TaskGuess:
    """The model's task, from the saved tag, the README, then the architecture."""
    if repo_id:
        tag = canonical_task(saved_tasks(data_dir).get(repo_id))
        if tag:
            return TaskGuess(tag, "download")
    tag = canonical_task(readme_task(model_dir))
    if tag:
        return TaskGuess(tag, "readme")
    task = architecture_task(read_config(model_dir), model_dir)
    return TaskGuess(task, "architecture") if task else TaskGuess(None, "none")


def is_task_model(task: str | None) -> bool:
    """A model the Tasks screen runs (not a chat, image or speech-engine model)."""
    return task in TASK_INPUTS
