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
    ToolCall,
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
    if params.tools:
        body["tools"] = [tool.as_openai() for tool in params.tools]
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
        if not params.thinking:
            # Thinking off: Qwen3-style templates on vLLM, SGLang and llama-server read the
            # kwarg; gpt-oss has no off switch, its least effort is "low".
            body["chat_template_kwargs"] = {"enable_thinking": False}
            body["reasoning_effort"] = "low"
    return body


EXTRA_FIELDS_TEXT = "top k and repetition penalty"  # what a server that rejects extras loses


# The optional fields `chat_body` sends with extras, by the names servers quote back.
EXTRA_FIELDS = (
    "top_k",
    "repetition_penalty",
    "repeat_penalty",
    "stream_options",
    "chat_template_kwargs",
    "reasoning_effort",
)


def names_an_extra(response: httpx.Response) -> bool:
    """A 400 that names one of the optional fields (so leaving them out may pass)."""
    text = response.text.lower()
    return any(name in text for name in EXTRA_FIELDS)


def wire_message(message: ChatMessage) -> dict[str, Any]:
    """A message as the server takes it: images become `image_url` parts with data URLs;
    a turn that called tools carries its `tool_calls`, a tool's result its `tool_call_id`."""
    if message.role == "tool":
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "name": message.name,
            "content": message.content,
        }
    if message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in message.tool_calls
            ],
        }
    if not message.images:
        return {"role": message.role, "content": message.content}
    from backends.chat.image_fit import data_url

    parts: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": data_url(image)}} for image in message.images
    ]
    if message.content:
        parts.append({"type": "text", "text": message.content})
    return {"role": message.role, "content": parts}


class ToolCallParts:
    """Streamed `delta.tool_calls` pieces, put together by their index (the id and name
    come once, the arguments in pieces)."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, str]] = {}

    def add(self, deltas: Any) -> None:
        for position, piece in enumerate(deltas if isinstance(deltas, list) else []):
            if not isinstance(piece, dict):
                continue
            index = piece.get("index", position)
            entry = self._parts.setdefault(index, {"id": "", "name": "", "arguments": ""})
            if piece.get("id"):
                entry["id"] = str(piece["id"])
            function = piece.get("function") or {}
            if isinstance(function.get("name"), str) and function["name"] != entry["name"]:
                entry["name"] += function["name"]
            if isinstance(function.get("arguments"), str):
                entry["arguments"] += function["arguments"]

    def calls(self) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(
                id=entry["id"] or f"call_{index}",
                name=entry["name"],
                arguments=entry["arguments"] or "{}",
            )
            for index, entry in sorted(self._parts.items())
            if entry["name"]
        )


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
