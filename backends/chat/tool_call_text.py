"""Tool calls written into a local model's text, found and taken out of the answer.

Local models (llama.cpp, transformers) call tools by writing them, each family its own way:
- Hermes / Qwen 2.5 / Qwen 3: `<tool_call>{"name": …, "arguments": {…}}</tool_call>`, one
  block per call;
- Mistral: `[TOOL_CALLS][{"name": …, "arguments": {…}}, …]` (or `[TOOL_CALLS]name[ARGS]{…}`);
- Llama 3.x: the whole answer is `{"name": …, "parameters": {…}}`, maybe after
  `<|python_tag|>`;
- gpt-oss: `…to=functions.NAME…<|message|>{…}<|call|>`;
- and small instruct models that ignore their template's format and answer with a fenced
  ```json {"name": …, "arguments": {…}}``` block (Qwen2.5-Coder 0.5B did, see the notes).
Bare JSON (Llama 3.x, fenced) counts as a call only when it names one of the offered tools,
so an answer that merely shows JSON stays an answer.

`collect_tool_calls` wraps an engine's stream: text flows as usual until something that may
start a call appears; from there it is held to the end and parsed, so the user never sees
half a call as answer text. A stream that called tools ends with `ToolCallsRequested` and
finish reason "tool_calls".
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from backends.base import ChatEvent, StreamFinished, TextDelta, ToolCall, ToolCallsRequested

# What may begin a call anywhere in the text, and what may begin one only at its start.
CALL_STARTS = ("<tool_call>", "[TOOL_CALLS]", "<|python_tag|>", "<|channel|>commentary")
ANSWER_STARTS = ("{", "```json")

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_MISTRAL_ARGS = re.compile(r"\[TOOL_CALLS\]\s*([\w.-]+)\s*\[ARGS\]\s*(\{.*\})", re.DOTALL)
_HARMONY = re.compile(
    r"to=functions\.([\w.-]+).*?<\|message\|>\s*(\{.*?\})\s*(?:<\|call\|>|$)", re.DOTALL
)
_FENCED = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.DOTALL)


def parse_tool_calls(text: str, tool_names: Iterable[str]) -> tuple[str, list[ToolCall]]:
    """(the answer text left, the calls found in `text`)."""
    known = set(tool_names)
    if "<tool_call>" in text:
        calls = [c for body in _TAGGED.findall(text) for c in _calls_from_json(body, None)]
        if calls:
            return text[: text.index("<tool_call>")].strip(), calls
    if "[TOOL_CALLS]" in text:
        before, after = text.split("[TOOL_CALLS]", 1)
        named = _MISTRAL_ARGS.search("[TOOL_CALLS]" + after)
        if named is not None:
            return before.strip(), [_call(named.group(1), _json(named.group(2)))]
        calls = _calls_from_json(after, None)
        if calls:
            return before.strip(), calls
    harmony = _HARMONY.findall(text)
    if harmony:
        calls = [_call(name, _json(args)) for name, args in harmony]
        before = text[: text.index("to=functions.")]
        channel = before.rfind("<|channel|>")
        return (before[:channel] if channel >= 0 else before).strip(), calls
    stripped = text.replace("<|python_tag|>", "").strip()
    if stripped.startswith("{"):
        calls = _calls_from_json(stripped, known)
        if calls:
            return "", calls
    for block in _FENCED.finditer(text):
        calls = _calls_from_json(block.group(1), known)
        if calls:
            return (text[: block.start()] + text[block.end() :]).strip(), calls
    return text, []


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _calls_from_json(text: str, known: set[str] | None) -> list[ToolCall]:
    """Calls in a JSON object or list of them; `known`: names bare JSON must use."""
    value = _json(text.strip())
    if value is None:  # "{…} {…}" or text after the object: read the first object only
        try:
            value, _ = json.JSONDecoder().raw_decode(text.strip())
        except ValueError:
            return []
    items = value if isinstance(value, list) else [value]
    calls: list[ToolCall] = []
    for item in items:
        if not isinstance(item, dict):
            return []
        inner = item.get("function")
        function: dict[str, Any] = inner if isinstance(inner, dict) else item
        name = function.get("name")
        if not isinstance(name, str) or (known is not None and name not in known):
            return []
        arguments = function.get("arguments", function.get("parameters", {}))
        calls.append(_call(name, arguments))
    return calls


def _call(name: str, arguments: Any) -> ToolCall:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
    return ToolCall(id=f"call_{uuid.uuid4().hex[:12]}", name=name, arguments=text)


def collect_tool_calls(
    events: Iterable[ChatEvent], tool_names: Iterable[str]
) -> Iterator[ChatEvent]:
    """`events` with tool calls in the text taken out as one ToolCallsRequested."""
    names = list(tool_names)
    held: list[str] = []  # text from a possible call start on, until the end
    shown = ""  # answer text passed on (for "at the start" checks)
    pending = ""  # text that may be the beginning of a call marker
    for event in events:
        if isinstance(event, TextDelta) and names:
            if held:
                held.append(event.text)
                continue
            pending += event.text
            start = _call_start(shown, pending)
            if start is not None:
                if pending[:start]:
                    yield TextDelta(pending[:start])
                    shown += pending[:start]
                held.append(pending[start:])
                pending = ""
                continue
            keep = _maybe_marker(shown, pending)
            ready, pending = pending[: len(pending) - keep], pending[len(pending) - keep :]
            if ready:
                shown += ready
                yield TextDelta(ready)
        elif isinstance(event, StreamFinished) and (held or pending):
            text, calls = parse_tool_calls("".join(held) + pending, names)
            if text:
                yield TextDelta("\n\n" + text if calls and shown.strip() else text)
            if calls:
                yield ToolCallsRequested(tuple(calls))
                if event.finish_reason in ("stop", "length"):
                    event = dataclasses.replace(event, finish_reason="tool_calls")
            held, pending = [], ""
            yield event
        else:
            yield event


def _call_start(shown: str, pending: str) -> int | None:
    """Where a call may begin in `pending`, or None."""
    found = [pending.find(marker) for marker in CALL_STARTS if marker in pending]
    if found:
        return min(found)
    if not shown.strip():
        lead = len(pending) - len(pending.lstrip())
        if any(pending[lead:].startswith(m) for m in ANSWER_STARTS):
            return lead
    return None


def _maybe_marker(shown: str, pending: str) -> int:
    """How many characters at the end of `pending` could still begin a call marker."""
    if not shown.strip() and not pending.strip():
        return len(pending)  # only whitespace so far: a "{" may follow
    if not shown.strip() and any(m.startswith(pending.strip()) for m in ANSWER_STARTS):
        return len(pending)
    for size in range(min(len(pending), max(map(len, CALL_STARTS)) - 1), 0, -1):
        tail = pending[-size:]
        if any(marker.startswith(tail) for marker in CALL_STARTS):
            return size
    return 0
