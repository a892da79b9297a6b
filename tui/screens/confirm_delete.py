"""A yes/no modal that says exactly what a delete removes and how many bytes it frees."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.human_units import human_bytes


class ConfirmDelete(ModalScreen[bool]):
    """`ConfirmDelete(what, freed_bytes, detail, warning=...)`: dismisses True to delete, False
    to keep. A `warning` (say, the model is loaded right now) shows in the warning colour."""

    DEFAULT_CSS = """
    ConfirmDelete { align: center middle; }
    ConfirmDelete > Vertical {
        width: 70;
        max-width: 100%;
        height: auto;
        padding: 1 2;
        border: thick $error;
        background: $surface;
    }
    ConfirmDelete #confirm-title { text-style: bold; }
    ConfirmDelete #confirm-detail { color: $text-muted; margin-top: 1; }
    ConfirmDelete #confirm-warning { color: $text-warning; text-style: bold; margin-top: 1; }
    ConfirmDelete Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
    ConfirmDelete Button { margin-left: 2; }
    """

    BINDINGS = [
        Binding("escape,n", "keep", "Keep", id="confirm.keep"),
        Binding("y", "delete", "Delete", id="confirm.delete"),
    ]

    def __init__(self, what: str, freed_bytes: int, detail: str = "", *, warning: str = "") -> None:
        super().__init__()
        self.what = what
        self.freed_bytes = freed_bytes
        self.detail = detail
        self.warning = warning

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"Delete {self.what}? This frees {human_bytes(self.freed_bytes)}.",
                id="confirm-title",
                markup=False,
            )
            if self.detail:
                yield Static(self.detail, id="confirm-detail", markup=False)
            if self.warning:
                yield Static(self.warning, id="confirm-warning", markup=False)
            with Horizontal():
                yield Button("Keep (n)", id="keep")
                yield Button("Delete (y)", variant="error", id="delete")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed, "#delete")
    def action_delete(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        self.dismiss(False)
