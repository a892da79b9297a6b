"""What a failed diffusers load means for the user (kept apart from the engine)."""

from __future__ import annotations

import json
from pathlib import Path

from backends.errors import (
    BackendError,
    CorruptModel,
    ModelNotFound,
    OutOfMemory,
    UnsupportedModel,
)


def pipeline_class(folder: Path) -> str:
    try:
        return str(json.loads((folder / "model_index.json").read_text()).get("_class_name"))
    except (OSError, ValueError, AttributeError):
        return "unknown"


def gguf_mismatch(gguf: Path, folder: Path, detail: str) -> UnsupportedModel:
    return UnsupportedModel(
        f"{gguf.name} does not fit the base pipeline {folder.name} ({detail}). Pick the base "
        "pipeline this GGUF was quantized from (its model card names it).",
        title="GGUF does not match its pipeline",
    )


def translate_load_error(error: Exception, folder: Path, gguf: str | None) -> BackendError:
    if isinstance(error, BackendError):
        return error
    text = str(error)
    lowered = text.lower()
    first = text.splitlines()[0][:240] if text else type(error).__name__
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return OutOfMemory(
            f"{folder.name} does not fit in memory. Close the chat model (or other programs), "
            "choose float16, or turn on a memory saver (images.memory_saver) on a GPU."
        )
    if isinstance(error, json.JSONDecodeError) or "model_index" in lowered and "json" in lowered:
        return CorruptModel(
            f"The model_index.json of {folder.name} is damaged ({first}). Download the model again."
        )
    pipeline = pipeline_class(folder)
    if (
        isinstance(error, AttributeError)
        or "has no attribute" in lowered
        or "cannot be found" in lowered
        or "is not a valid" in lowered
        or "can't find a pipeline" in lowered
    ) and pipeline != "unknown":
        import diffusers

        if not hasattr(diffusers, pipeline):
            return UnsupportedModel(
                f"This diffusers ({diffusers.__version__}) has no pipeline class {pipeline}. "
                "Upgrade diffusers (pip install -U diffusers) or pick another model."
            )
    if gguf and ("gguf" in lowered or "size mismatch" in lowered or "shape" in lowered):
        return UnsupportedModel(
            f"{Path(gguf).name} does not fit the base pipeline {folder.name} ({first}). Pick "
            "the base pipeline this GGUF was quantized from.",
            title="GGUF does not match its pipeline",
        )
    if isinstance(error, (OSError, FileNotFoundError)) and (
        "no file named" in lowered or "does not appear" in lowered or "no such file" in lowered
    ):
        return ModelNotFound(
            f"{folder.name} is missing files ({first}). Download the model again or pick "
            "another folder."
        )
    if type(error).__name__ == "SafetensorError" or "header" in lowered or "deserializ" in lowered:
        return CorruptModel(
            f"The weights in {folder.name} are damaged or incomplete ({first}). Download the "
            "model again."
        )
    return CorruptModel(
        f"diffusers could not load {folder.name} ({pipeline}): {first}. The files may be "
        "incomplete; download the model again."
    )
