"""A one-line yes/no question as a small modal: y confirms, n or Esc declines."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True on y, False on n / Esc. Keyboard only, nothing to focus."""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        background: $background 60%;
    }
    ConfirmScreen > Vertical {
        width: auto;
        max-width: 90%;
        height: auto;
        padding: 1 2;
        background: $panel;
        border: thick $error;
    }
    ConfirmScreen #confirm-question {
        text-style: bold;
        max-width: 100%;  /* wraps instead of being cut at 80 columns */
    }
    ConfirmScreen #confirm-keys {
        color: $text-muted;
        margin-top: 1;
    }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, *, yes: str = "delete", no: str = "keep") -> None:
        super().__init__()
        self._question = question
        self._keys = f"y {yes} · n {no}"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._question, id="confirm-question", markup=False)
            yield Label(self._keys, id="confirm-keys", markup=False)
        yield Footer()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
