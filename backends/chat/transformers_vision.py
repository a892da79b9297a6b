"""Image-text-to-text models in the transformers engine: recognising them, and preparing a
conversation with images the way the transformers guide does (chat template with
{"type": "image"} entries, then the processor on text and images together)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from backends.base import ChatMessage
from backends.chat.image_fit import pil_image
from backends.errors import GenerationError


def is_vision_model(model_dir: Path) -> bool:
    """An image-text-to-text checkpoint: its config has a vision tower."""
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and "vision_config" in config


def encode_with_processor(processor: Any, messages: Sequence[ChatMessage]) -> Any:
    """The transformers image-text-to-text recipe: the chat template with {"type": "image"}
    entries where the images go, then the processor on the text and the images together."""
    chat: list[dict[str, Any]] = []
    images: list[Any] = []
    for message in messages:
        if message.images:
            parts: list[dict[str, Any]] = [{"type": "image"} for _ in message.images]
            parts.append({"type": "text", "text": message.content})
            images.extend(pil_image(image) for image in message.images)
            chat.append({"role": message.role, "content": parts})
        else:
            content = [{"type": "text", "text": message.content}]
            chat.append({"role": message.role, "content": content})
    try:
        text = processor.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        return processor(text=text, images=images or None, return_tensors="pt")
    except Exception as error:  # template and processor errors vary by model
        raise GenerationError(
            f"This model's processor could not prepare the conversation ({error}). "
            "Try a new chat, or fewer images."
        ) from error


def to_model(value: Any, model: Any) -> Any:
    """A tensor on the model's device; floating point ones in its dtype too."""
    if not hasattr(value, "to"):
        return value
    if value.is_floating_point():
        return value.to(model.device, dtype=model.dtype)
    return value.to(model.device)
