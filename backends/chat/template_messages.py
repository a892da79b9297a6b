"""Messages as chat templates take them (llama.cpp's Jinja formatter, transformers'
`apply_chat_template`): tool calls with their arguments as objects, tool results as "tool"
turns, and whether a template knows tools at all."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from backends.base import ChatMessage, GenerationParams


def template_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    return [_one(m) for m in messages]


def _one(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {
            "role": "tool",
            "content": message.content,
            "name": message.name,
            "tool_call_id": message.tool_call_id,
        }
    turn: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        # Qwen, Llama 3.x and Mistral templates write `arguments | tojson`: an object.
        turn["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": _arguments(call.arguments)},
            }
            for call in message.tool_calls
        ]
    return turn


def _arguments(text: str) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return text


def template_takes_tools(template: str | None) -> bool:
    """A chat template that renders a `tools` list (Qwen, Llama 3.x, Mistral, Hermes,
    gpt-oss templates do; SmolLM2's does not)."""
    return bool(template) and "tools" in str(template)


def tools_kwargs(params: GenerationParams) -> dict[str, Any]:
    """The template variable for the offered tools (none: the template's plain prompt)."""
    return {"tools": [tool.as_openai() for tool in params.tools]} if params.tools else {}
