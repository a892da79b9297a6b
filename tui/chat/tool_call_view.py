"""A tool call in the conversation: a folded block under the answer that made it ("⚙
read_file · app · allowed once · 3 ms"), opening to the arguments and the result.

A MessageView (role "tool"), so it goes where messages go: removed with the answer after it
on regenerate or edit, shown again when the chat is reopened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Collapsible, Static

from tui.chat.message_view import MessageView


def call_title(info: dict[str, Any]) -> str:
    parts = [f"⚙ {info.get('name', 'tool')}", str(info.get("source") or "?")]
    if info.get("outcome"):
        parts.append(str(info["outcome"]))
    elapsed = info.get("elapsed_s")
    if isinstance(elapsed, int | float) and info.get("outcome") not in ("denied", "stopped"):
        parts.append(f"{elapsed * 1000:.0f} ms" if elapsed < 1 else f"{elapsed:.1f} s")
    if info.get("is_error"):
        parts.append("error")
    return " · ".join(parts)


def _arguments(text: str) -> str:
    try:
        return json.dumps(json.loads(text or "{}"), indent=1, ensure_ascii=False)
    except ValueError:
        return text


class ToolCallView(MessageView):
    """One call and its result (`info` as the store keeps it: StoredMessage.tools)."""

    DEFAULT_CSS = """
    ToolCallView { color: $text-muted; }
    ToolCallView Collapsible { background: transparent; border-top: none; padding: 0; }
    ToolCallView Collapsible Contents { padding: 0 0 0 2; }
    ToolCallView .tool-error { color: $error; }
    """

    def __init__(self, result: str, info: dict[str, Any], *, message_id: int | None = None) -> None:
        super().__init__("tool", result, message_id=message_id)
        self.info = info
        self.can_focus = False

    def compose(self) -> ComposeResult:
        arguments = Static(
            Content(f"arguments: {_arguments(str(self.info.get('arguments') or '{}'))}"),
            classes="tool-arguments",
        )
        result = Static(
            Content(self.content),
            classes="tool-result" + (" tool-error" if self.info.get("is_error") else ""),
        )
        yield Collapsible(arguments, result, title=call_title(self.info), collapsed=True)
        yield Static("", classes="stats")  # MessageView's mount hides it

    def finish(self, result: str, info: dict[str, Any]) -> None:
        """The call that showed as running came back: its outcome in the same block."""
        self.info = info
        self.content = result
        self.query_one(Collapsible).title = call_title(info)
        shown = self.query_one(".tool-result", Static)
        shown.update(Content(result))
        shown.set_class(bool(info.get("is_error")), "tool-error")


NOT_RUN = "Not run: the app closed before this call was answered."
RUNNING_OUTCOME = "running"  # stored as a call starts; its outcome replaces it
RUNNING = "Running…"
INTERRUPTED = (
    "Interrupted: the app closed while this call ran, so it did not finish and its result "
    "is lost. Ask again to run it again."
)


def interrupted(info: Mapping[str, Any]) -> dict[str, Any]:
    """A reopened call still stored as running: the app died while it ran."""
    if info.get("outcome") != RUNNING_OUTCOME:
        return dict(info)
    return {**info, "outcome": "interrupted"}


def tool_only(content: str, reasoning: str, tools: Mapping[str, Any] | None) -> bool:
    """An answer with tool calls and no text or thinking of its own."""
    return not content.strip() and not reasoning and bool((tools or {}).get("calls"))


def unanswered_calls(calls: Mapping[str, Any] | None, answered: set[str]) -> list[dict[str, Any]]:
    """The calls of an answer (StoredMessage.tools) with no result stored: the app closed
    or died while they waited to be allowed or ran. As a "tool" message's info, "not run"."""
    return [
        {
            "call_id": call.get("id"),
            "name": call.get("name"),
            "arguments": call.get("arguments"),
            "source": call.get("source"),
            "outcome": "not run",
        }
        for call in (calls or {}).get("calls") or ()
        if isinstance(call, Mapping) and call.get("id") not in answered
    ]
