"""Tool calls written in a local model's text, in each family's format, split anywhere."""

from __future__ import annotations

import json

import pytest

from backends.base import StreamFinished, TextDelta, ToolCallsRequested
from backends.chat.tool_call_text import collect_tool_calls, parse_tool_calls

TOOLS = ["get_time", "read_file"]

CALLS = {
    "hermes": 'Let me check.<tool_call>\n{"name": "read_file", "arguments": {"path": "a.txt"}}'
    "\n</tool_call>",
    "mistral": '[TOOL_CALLS][{"name": "read_file", "arguments": {"path": "a.txt"}}]',
    "mistral-args": '[TOOL_CALLS]read_file[ARGS]{"path": "a.txt"}',
    "llama3": '{"name": "read_file", "parameters": {"path": "a.txt"}}',
    "llama3-tag": '<|python_tag|>{"type": "function", "name": "read_file", '
    '"parameters": {"path": "a.txt"}}',
    "gpt-oss": "<|channel|>commentary to=functions.read_file <|constrain|>json<|message|>"
    '{"path": "a.txt"}<|call|>',
    "fenced": '```json\n{"name": "read_file", "arguments": {"path": "a.txt"}}\n```',
}


@pytest.mark.parametrize("family", sorted(CALLS))
def test_each_format_is_a_call(family: str) -> None:
    text, calls = parse_tool_calls(CALLS[family], TOOLS)
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [("read_file", {"path": "a.txt"})]
    assert text == ("Let me check." if family == "hermes" else "")


def test_bare_json_naming_no_offered_tool_stays_an_answer() -> None:
    answer = '{"name": "Ada", "arguments": "none"}'
    assert parse_tool_calls(answer, TOOLS) == (answer, [])
    fenced = '```json\n{"name": "Ada"}\n```'
    assert parse_tool_calls(fenced, TOOLS) == (fenced, [])


def run(pieces: list[str]) -> tuple[str, list[str], str]:
    events = list(
        collect_tool_calls(
            [*(TextDelta(p) for p in pieces), StreamFinished("stop", 1, 1, 0.1, 0.2)], TOOLS
        )
    )
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    calls = [c.name for e in events if isinstance(e, ToolCallsRequested) for c in e.calls]
    finished = events[-1]
    assert isinstance(finished, StreamFinished)
    return text, calls, finished.finish_reason


@pytest.mark.parametrize("family", sorted(CALLS))
def test_calls_split_across_deltas_never_show_as_answer_text(family: str) -> None:
    whole = CALLS[family]
    for cut in range(1, len(whole), 3):
        text, calls, reason = run([whole[:cut], whole[cut:]])
        assert calls == ["read_file"] and reason == "tool_calls"
        assert "read_file" not in text


def test_plain_answers_stream_as_they_come() -> None:
    assert run(["Hello ", "there", "."]) == ("Hello there.", [], "stop")
    assert run(["```py", "thon\nx = {}\n```"]) == ("```python\nx = {}\n```", [], "stop")
    assert run(["{not json"]) == ("{not json", [], "stop")
