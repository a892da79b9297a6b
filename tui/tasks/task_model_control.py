"""The Tasks screen's model: picking one, loading it for a task in a worker (again when the
user picks another task in the list), and what the screen says when it is ready or failed.

A mixin for `TasksScreen`, which provides what `_ScreenParts` names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.widgets import Select

from backends.base import ModelSpec
from backends.errors import BackendError
from backends.tasks.protocol import TASK_INPUTS
from tui.tasks.task_options import TaskOptionsRow, loaded_hint

if TYPE_CHECKING:
    from textual.screen import Screen

    from backends.tasks.session import TaskSession

    class _ScreenParts(Screen[None]):
        _session: TaskSession
        _mounted: bool

        @property
        def task(self) -> str | None: ...
        @property
        def busy(self) -> bool: ...
        def _status(self, text: str) -> None: ...
        def _show_title(self) -> None: ...
        def _show_options(self) -> None: ...
        def _failed(self, error: BackendError) -> None: ...
else:
    _ScreenParts = object


class TaskModelControl(_ScreenParts):
    """Loading the task model (mixed into TasksScreen)."""

    _spec: ModelSpec | None = None
    _pending: tuple[ModelSpec, str | None] | None = None  # asked for before the mount

    @dataclass
    class ModelLoaded(Message):
        error: BackendError | None = None

    def action_pick_model(self) -> None:
        from tui.screens.model_picker import ModelPickerScreen

        if self.busy:
            self.notify("A run is going: Esc stops it first.")
            return

        def chosen(spec: ModelSpec | None) -> None:
            if spec is not None:
                self.load_model(spec, spec.task if spec.task in TASK_INPUTS else self.task)

        self.app.push_screen(
            ModelPickerScreen(self.app.settings, [], self._spec, kind="tasks"),  # type: ignore[attr-defined]
            chosen,
        )

    def load_model(self, spec: ModelSpec, task: str | None = None) -> None:
        """Load `spec` for `task` (its own when None): the entry point for "open this model in
        the Tasks screen" (the Hub, tests); right after the screen opens it waits for its mount."""
        if not self._mounted:
            self._pending = (spec, task)
            return
        self._pending, self._spec = None, spec
        task = task or spec.task
        if task is None:
            self._status(f"Which task does {spec.name} do? Pick it in the Task list.")
            return
        with self.prevent(Select.Changed):
            self.query_one("#tasks-task", Select).value = task
        self._show_options()
        self._load(spec, task)

    def _load(self, spec: ModelSpec, task: str) -> None:
        self._status(f"Loading {spec.name} for {task}…")
        self._load_worker(spec, task)

    @work(thread=True, exclusive=True, group="tasks-load", exit_on_error=False)
    def _load_worker(self, spec: ModelSpec, task: str) -> None:
        try:
            self._session.load(spec, task)
        except BackendError as error:
            self.post_message(self.ModelLoaded(error))
            return
        self.post_message(self.ModelLoaded())

    # A mixin is no MessagePump: Textual reads `@on` handlers only from a pump's own
    # class, so this one goes by its name.
    def on_task_model_control_model_loaded(self, message: ModelLoaded) -> None:
        self._show_title()
        if message.error is not None:
            self._failed(message.error)
            return
        info = self._session.info
        kind = info.input_kind if info else "text"
        self.query_one(TaskOptionsRow).set_targets(info.targets if info else ())
        self._status(loaded_hint(self._session.label() or "", info.task if info else "", kind))
        self.query_one("#tasks-text" if kind == "text" else "#tasks-file").focus()
