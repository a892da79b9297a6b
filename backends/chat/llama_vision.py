"""llama.cpp vision: a GGUF with its `mmproj` projector, through llama-cpp-python's
multimodal chat handler (MTMDChatHandler: libmtmd, which reads the model's own chat
template and projector type, so LLaVA, Gemma 3, Qwen2.5-VL, SmolVLM... share one path).

Images go in as OpenAI-style `image_url` parts with base64 data URLs, as the handler takes
them; the answer streams from `create_chat_completion(stream=True)`, cancel checked per
chunk.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from backends.base import (
    ChatEvent,
    ChatMessage,
    FinishReason,
    GenerationParams,
    StreamFinished,
    TextDelta,
)
from backends.errors import BackendError, GenerationError, ModelNotFound, UnsupportedModel


def projector_handler(llama_cpp: Any, projector: str) -> Any:
    """The chat handler for `projector` (an mmproj GGUF), or a BackendError saying why not."""
    path = Path(projector)
    if not path.is_file():
        raise ModelNotFound(
            f"The vision projector {path} is missing. Download the mmproj file of this "
            "model again (the Hub screen fetches it with the model)."
        )
    from llama_cpp import llama_chat_format

    handler_class = getattr(llama_chat_format, "MTMDChatHandler", None)
    if handler_class is None:
        raise UnsupportedModel(
            "This llama-cpp-python has no multimodal (MTMD) chat handler. Upgrade it: "
            "pip install -U llama-cpp-python"
        )
    try:
        return handler_class(clip_model_path=str(path), verbose=False)
    except (ValueError, RuntimeError, OSError) as error:
        raise UnsupportedModel(
            f"llama.cpp could not use the vision projector {path.name} ({error}). Check "
            "that it is the mmproj file made for this model."
        ) from error


def wire_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Messages as the multimodal handler takes them (images first, then the text)."""
    from backends.chat.image_fit import data_url

    wired: list[dict[str, Any]] = []
    for message in messages:
        if not message.images:
            wired.append({"role": message.role, "content": message.content})
            continue
        parts: list[dict[str, Any]] = [
            {"type": "image_url", "image_url": {"url": data_url(image)}} for image in message.images
        ]
        parts.append({"type": "text", "text": message.content})
        wired.append({"role": message.role, "content": parts})
    return wired


def stream_multimodal(
    llm: Any,
    messages: Sequence[ChatMessage],
    params: GenerationParams,
    cancel: Any,
    started: float,
) -> Iterator[ChatEvent]:
    """Stream an answer to a conversation with images; one StreamFinished at the end."""
    kwargs: dict[str, Any] = {
        "messages": wire_messages(messages),
        "stream": True,
        "max_tokens": params.max_new_tokens,
        "temperature": max(params.temperature, 0.0),
        "top_p": params.top_p,
        "top_k": params.top_k,
        "repeat_penalty": params.repetition_penalty,
    }
    if params.seed is not None:
        kwargs["seed"] = params.seed
    pieces = 0
    ttft: float | None = None
    finish: FinishReason = "stop"
    prompt_tokens: int | None = None
    try:
        chunks = llm.create_chat_completion(**kwargs)
        for chunk in chunks:
            if cancel is not None and cancel.is_set():
                finish = "cancelled"
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
                break
            choice = (chunk.get("choices") or [{}])[0]
            text = (choice.get("delta") or {}).get("content") or ""
            if text:
                pieces += 1
                if ttft is None:
                    ttft = time.perf_counter() - started
                yield TextDelta(text)
            if choice.get("finish_reason") == "length":
                finish = "length"
            usage = chunk.get("usage") or {}
            prompt_tokens = usage.get("prompt_tokens", prompt_tokens)
    except BackendError:
        raise
    except MemoryError as error:
        raise GenerationError("Ran out of memory while reading the image(s).") from error
    except (ValueError, RuntimeError) as error:
        raise GenerationError(
            f"llama.cpp could not read the image(s) with this projector: {error}."
        ) from error
    yield StreamFinished(
        finish_reason=finish,
        prompt_tokens=prompt_tokens,
        completion_tokens=pieces,
        ttft_s=ttft,
        total_s=time.perf_counter() - started,
    )
