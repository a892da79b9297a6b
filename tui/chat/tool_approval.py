"""Asks before a tool runs: which tool, whose (the app's or an MCP server's), with what
arguments. y: allow once · a: always allow this tool (remembered) · n or Esc: deny."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from backends.base import ToolCall


class ToolApprovalScreen(ModalScreen[str]):
    """Dismissed with "once", "always" or "deny"."""

    DEFAULT_CSS = """
    ToolApprovalScreen { align: center middle; }
    ToolApprovalScreen > Vertical {
        width: 80%; max-width: 100; height: auto; max-height: 80%;
        border: thick $warning; background: $panel; padding: 1 2;
    }
    ToolApprovalScreen .tool-arguments { margin: 1 0; max-height: 16; overflow-y: auto; }
    ToolApprovalScreen Horizontal { height: auto; }
    ToolApprovalScreen Button { margin-right: 2; }
    """

    BINDINGS = [
        Binding("y", "decide('once')", "Allow once", id="tool.allow_once"),
        Binding("a", "decide('always')", "Always allow", id="tool.allow_always"),
        Binding("n,escape", "decide('deny')", "Deny", id="tool.deny"),
    ]

    def __init__(self, call: ToolCall, source: str) -> None:
        super().__init__()
        self.call = call
        self.source = source

    def compose(self) -> ComposeResult:
        try:
            shown = json.dumps(
                json.loads(self.call.arguments or "{}"), indent=2, ensure_ascii=False
            )
        except ValueError:
            shown = self.call.arguments
        whose = "the app" if self.source == "app" else f"MCP server {self.source}"
        with Vertical():
            yield Label(
                Content.assemble(("Run tool ", ""), (self.call.name, "bold"), f" from {whose}?")
            )
            yield Static(Content(shown), classes="tool-arguments")
            with Horizontal():
                yield Button("Allow once (y)", id="once", variant="primary")
                yield Button("Always allow (a)", id="always")
                yield Button("Deny (n)", id="deny", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "deny")

    def action_decide(self, decision: str) -> None:
        self.dismiss(decision)
