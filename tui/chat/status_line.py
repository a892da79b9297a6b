"""One line: the loaded model and what the app is doing, with load progress when loading."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.widgets import ProgressBar


class StatusLine(Horizontal):
    """`model` and `state` are set by the chat screen; progress shows only while loading.

    The progress bar is mounted by the first load, not with the line: hidden until then, it
    cost the first frame its module, three widgets and their styles (~4 ms of CPU), and its
    once-a-second timer ran for nothing."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._model = "no model loaded"
        self._state = "ctrl+o to pick a model"
        self._bar: ProgressBar | None = None  # mounted by the first load

    def compose(self) -> ComposeResult:
        yield Static(id="status-text", markup=False)

    def on_mount(self) -> None:
        self._render_text()

    def set_model(self, label: str | None) -> None:
        self._model = label or "no model loaded"
        self._render_text()

    def set_state(self, state: str) -> None:
        self._state = state
        self._render_text()

    def set_progress(self, fraction: float | None) -> None:
        """A fraction shows a bar, None an indeterminate one."""
        bar = self._progress_bar()
        bar.display = True
        if fraction is None:
            bar.update(total=None)
        else:
            bar.update(total=100, progress=round(fraction * 100))

    def hide_progress(self) -> None:
        if self._bar is not None:
            self._bar.display = False

    def _progress_bar(self) -> ProgressBar:
        if self._bar is None:
            from textual.widgets import ProgressBar

            self._bar = ProgressBar(total=None, show_eta=False, id="load-progress")
            self.mount(self._bar)
        return self._bar

    @property
    def text(self) -> str:
        return f"{self._model} │ {self._state}"

    def _render_text(self) -> None:
        if self.is_mounted:
            self.query_one("#status-text", Static).update(self.text)
