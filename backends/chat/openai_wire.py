"""The OpenAI chat wire format: the request body, the SSE stream, a non-streamed answer.

What servers send, as measured against llama.cpp's server: a first chunk with only the role,
one chunk per piece of text, a chunk with `finish_reason` (llama.cpp adds `usage` there), an
optional usage-only chunk when `stream_options.include_usage` was asked for, `data: [DONE]`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from backends.base import (
    ChatEvent,
    ChatMessage,
    GenerationParams,
    ServerConfig,
    StreamFinished,
    TextDelta,
)
from backends.chat.openai_errors import error_text, redact
from backends.errors import GenerationError


def chat_body(
    model: str, messages: Sequence[ChatMessage], params: GenerationParams, *, extras: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [wire_message(m) for m in messages],
        "stream": True,
        "max_tokens": params.max_new_tokens,  # llama.cpp ignores max_completion_tokens
        "temperature": params.temperature,
        "top_p": params.top_p,
    }
    if params.seed is not None:
        body["seed"] = params.seed
    if params.repetition_penalty == 1.0:
        # Ollama's OpenAI route reads only this name; "off" is 0 here and 1.0 in the others.
        body["frequency_penalty"] = 0.0
    if extras:
        # vLLM and llama.cpp read these; api.openai.com rejects them (then we retry without).
        # The penalty goes out even at 1.0 (off): llama.cpp's server defaults to 1.1 when it
        # is missing, so temperature 0 would answer differently than the same GGUF here.
        body["top_k"] = params.top_k
        body["repetition_penalty"] = params.repetition_penalty  # vLLM, TGI
        body["repeat_penalty"] = params.repetition_penalty  # llama.cpp
        body["stream_options"] = {"include_usage": True}
    return body


EXTRA_FIELDS_TEXT = "top k and repetition penalty"  # what a server that rejects extras loses


# The optional fields `chat_body` sends with extras, by the names servers quote back.
EXTRA_FIELDS = ("top_k", "repetition_penalty", "repeat_penalty", "stream_options")


def names_an_extra(response: httpx.Response) -> bool:
    """A 400 that names one of the optional fields (so leaving them out may pass)."""
    text = response.text.lower()
    return any(name in text for name in EXTRA_FIELDS)


def wire_message(message: ChatMessage) -> dict[str, Any]:
    """A message as the server takes it: images become `image_url` parts with data URLs."""
    if not message.images:
        return {"role": message.role, "content": message.content}
    from backends.chat.image_fit import data_url

    parts: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": data_url(image)}} for image in message.images
    ]
    if message.content:
        parts.append({"type": "text", "text": message.content})
    return {"role": message.role, "content": parts}


def whole_answer(
    response: httpx.Response, server: ServerConfig, started: float
) -> Iterator[ChatEvent]:
    """A non-streamed completion, for servers that answer `stream: true` with plain JSON."""
    try:
        payload = json.loads(response.read())
        choice = payload["choices"][0]
        text = (choice.get("message") or {}).get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
        raise GenerationError(
            f"{server.name} sent an answer this app cannot read. Check that it is an "
            "OpenAI-compatible server."
        ) from error
    finally:
        response.close()
    first_text_at = time.perf_counter() if text else None
    if text:
        yield TextDelta(text)
    usage = payload.get("usage") or {}
    completion = int(usage.get("completion_tokens") or (1 if text else 0))
    prompt = usage.get("prompt_tokens")
    yield StreamFinished(
        finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
        prompt_tokens=int(prompt) if prompt is not None else None,
        completion_tokens=completion,
        ttft_s=None if first_text_at is None else first_text_at - started,
        total_s=time.perf_counter() - started,
    )


def sse_payloads(response: httpx.Response) -> Iterator[str]:
    """The `data:` payloads of an event stream; comments, `event:` and blank lines skipped."""
    data: list[str] = []
    for line in response.iter_lines():
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield "\n".join(data)


def parse_chunk(payload: str, server: ServerConfig) -> dict[str, Any] | None:
    try:
        chunk = json.loads(payload)
    except json.JSONDecodeError:
        return None  # a keep-alive or a server's debug line: not ours to fail on
    if not isinstance(chunk, dict):
        return None
    if chunk.get("error"):
        raise GenerationError(
            f"{server.name} stopped the answer: {redact(error_text(chunk), server)}. "
            "The partial answer is kept; try again or check the server's log."
        )
    return chunk
