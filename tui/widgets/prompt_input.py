"""The multi-line prompt: Enter sends; ctrl+j (any terminal) or shift+enter inserts a newline.

ctrl+j sends a bare line feed in every terminal, so it works over SSH and in tmux;
shift+enter only reaches the app where the terminal reports modified keys (kitty, WezTerm,
foot, recent iTerm2...). Up in an empty prompt edits the previous message you sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class PromptInput(TextArea):
    BINDINGS = [
        Binding("enter", "submit", "Send", priority=True, id="prompt.send"),
        Binding(
            "ctrl+j,shift+enter",
            "newline",
            "New line",
            key_display="ctrl+j",
            priority=True,
            id="prompt.newline",
        ),
    ]

    @dataclass
    class Submitted(Message):
        prompt: PromptInput
        text: str

    class EditPreviousRequested(Message):
        """Up was pressed in an empty prompt."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            tab_behavior="focus",
            compact=True,
            highlight_cursor_line=False,
            placeholder="Message…  (Enter sends · ctrl+j new line)",
        )

    def action_submit(self) -> None:
        if self.text.strip():
            self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_cursor_up(self, select: bool = False) -> None:
        if not self.text and not select:
            self.post_message(self.EditPreviousRequested())
            return
        super().action_cursor_up(select)
