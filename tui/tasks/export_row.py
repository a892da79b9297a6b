"""The "Save as" line under the Tasks screen's results: exports a run as JSONL or CSV.

Hidden until opened (ctrl+s); Enter writes the file and closes it, Esc (the screen's)
closes it. The numbers written are those on screen (`backends.tasks.export`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

from backends.errors import BackendError
from backends.tasks.export import EXPORT_SUFFIXES, write_results
from backends.tasks.protocol import ItemDone, ItemFailed
from tui.widgets.path_input import PathInput


class ExportRow(Horizontal):
    DEFAULT_CSS = """
    ExportRow { display: none; }
    ExportRow.-open { display: block; }
    ExportRow #tasks-export { width: 1fr; }
    """

    @dataclass
    class Saved(Message):
        count: int
        path: Path

    @dataclass
    class Failed(Message):
        error: BackendError

    def __init__(self, *, classes: str = "", id: str | None = None) -> None:
        super().__init__(classes=classes, id=id)
        self._items: Sequence[ItemDone | ItemFailed] = ()

    def compose(self) -> ComposeResult:
        yield Label("Save as")
        yield PathInput(placeholder=".jsonl or .csv", suffixes=EXPORT_SUFFIXES,
                        id="tasks-export")  # fmt: skip

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self, items: Sequence[ItemDone | ItemFailed], source: Path | None) -> None:
        """Offer to save `items`, named after the batch file `source` when there is one."""
        self._items = list(items)
        field = self.query_one("#tasks-export", PathInput)
        if not field.value:
            stem = source.with_suffix("") if source else Path.cwd() / "results"
            field.value = f"{stem}.results.jsonl"
        self.add_class("-open")
        field.focus()

    def close(self) -> None:
        self.remove_class("-open")

    @on(Input.Submitted, "#tasks-export")
    def _save(self, event: Input.Submitted) -> None:
        event.stop()
        path = self.query_one("#tasks-export", PathInput).path
        if path is None:
            self.notify("Type a file name ending in .jsonl or .csv.")
            return
        try:
            written = write_results(self._items, path)
        except BackendError as error:
            self.post_message(self.Failed(error))
            return
        self.close()
        self.post_message(self.Saved(len(self._items), written))
