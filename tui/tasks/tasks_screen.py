"""The Tasks screen: run a task model (NER, classification, fill-mask, zero-shot, QA,
embeddings, image classification and captioning, detection, audio, speech, summaries,
translation) on typed text, a file or a batch file; ctrl+g hands the generative ones to
the chat model as a prompt.

A run goes to a thread worker that posts the engine's events in coalesced batches (at most
every 50 ms), so a fast model's hundreds of items a second never flood the UI. One item
shows its full view; a batch shows a table (one row per item, the numbers the export
writes) and the highlighted row's full view. Esc stops a run between items. Picking and
loading the model: task_model_control.py.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Footer, Input, Label, Select, Static, TextArea
from textual.worker import Worker

from backends.base import ModelSpec
from backends.errors import BackendError
from backends.tasks.protocol import (
    TASK_INPUTS,
    BatchFinished,
    BatchStarted,
    ItemDone,
    ItemFailed,
    TaskEvent,
    TaskInput,
    TaskOptions,
)
from backends.tasks.task_inputs import input_from_path, read_batch_file, refusal
from tui.tasks.export_row import ExportRow
from tui.tasks.result_views import shown_view
from tui.tasks.results_pane import ResultsPane
from tui.tasks.task_model_control import TaskModelControl
from tui.tasks.task_options import TaskOptionsRow
from tui.widgets.navigation_bar import NavigationBar
from tui.widgets.path_input import PathInput

if TYPE_CHECKING:
    from backends.tasks.session import TaskSession
    from tui.widgets.image_preview import Renderer

FLUSH_S = 0.05


class TasksScreen(TaskModelControl, Screen[None]):
    DEFAULT_CSS = """
    TasksScreen { layout: vertical; }
    TasksScreen #tasks-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    TasksScreen .tasks-row { height: 1; margin: 1 1 0 1; }
    TasksScreen .tasks-row Label { width: auto; margin-right: 1; color: $text-muted; }
    TasksScreen .tasks-row Input { width: 8; margin-right: 2; }
    TasksScreen #tasks-task { width: 34; margin-right: 2; }
    TasksScreen #tasks-aggregation { width: 14; margin-right: 2; }
    TasksScreen #tasks-labels { width: 1fr; }
    TasksScreen .-hidden { display: none; }
    TasksScreen #tasks-text { height: 5; margin: 1 1 0 1; }
    TasksScreen #tasks-file { width: 1fr; }
    TasksScreen #tasks-body { height: 1fr; margin: 1 1 0 1; }
    TasksScreen #tasks-status { height: auto; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "stop", "Stop/back", id="tasks.stop"),
        Binding("ctrl+r", "run_text", "Run", id="tasks.run", priority=True),
        Binding("ctrl+o", "pick_model", "Model", id="tasks.pick_model"),
        Binding("ctrl+s", "export", "Export", id="tasks.export"),
        Binding("ctrl+g", "ask_chat", "Ask chat", id="tasks.ask_chat"),
    ]

    @dataclass
    class Progressed(Message):
        run: int
        events: list[TaskEvent]
        error: BackendError | None = None

    def __init__(self, session: TaskSession, *, renderer: Renderer = "auto") -> None:
        super().__init__()
        self._session = session
        self._renderer = renderer
        self._spec: ModelSpec | None = None
        self._items: list[ItemDone | ItemFailed] = []
        self._cancel: threading.Event | None = None
        self._run = 0
        self._total = 0
        self._source: Path | None = None
        self._pending: tuple[ModelSpec, str | None] | None = None
        self._mounted = False  # is_mounted is still False while on_mount runs

    def compose(self) -> ComposeResult:
        yield NavigationBar("tasks")
        yield Static("", id="tasks-title", markup=False)
        yield TaskOptionsRow(classes="tasks-row", id="tasks-options")
        yield TextArea(id="tasks-text", soft_wrap=True, show_line_numbers=False)
        with Horizontal(classes="tasks-row"):
            yield Label("File")
            yield PathInput(placeholder="text, image or audio file (Tab completes)",
                            id="tasks-file")  # fmt: skip
            yield Checkbox("Batch: one input per line", id="tasks-batch", compact=True)
        yield ResultsPane(renderer=self._renderer, id="tasks-body")
        yield Static("", id="tasks-status", markup=False)
        yield ExportRow(classes="tasks-row", id="tasks-export-row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._spec = self._session.spec
        info = self._session.info
        if info is not None:
            self.query_one("#tasks-task", Select).value = info.task
            self.query_one(TaskOptionsRow).set_targets(info.targets)
        self._show_title()
        self._show_options()
        self._status("Press ctrl+o to pick a task model, type text and press ctrl+r to run it.")
        self.query_one("#tasks-text", TextArea).focus()
        self._mounted = True
        if self._pending is not None:  # load_model was called before the screen was up
            self.load_model(*self._pending)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.report_worker_failure(event)  # type: ignore[attr-defined]

    # -- display -----------------------------------------------------------------------

    def _show_title(self) -> None:
        label = self._session.label() or "no model (ctrl+o picks a task model)"
        self.query_one("#tasks-title", Static).update(f"Tasks · {label}")

    def _status(self, text: str) -> None:
        self.query_one("#tasks-status", Static).update(text)

    @property
    def task(self) -> str | None:
        return self.query_one(TaskOptionsRow).task

    @property
    def items(self) -> list[ItemDone | ItemFailed]:
        return list(self._items)

    @property
    def busy(self) -> bool:
        return self._cancel is not None

    def _show_options(self) -> None:
        task = self.task or ""
        self.query_one(TaskOptionsRow).show_for(task)
        self.query_one("#tasks-text").set_class(TASK_INPUTS.get(task) not in ("text", None),
                                                "-hidden")  # fmt: skip

    @on(Select.Changed, "#tasks-task")
    def _task_changed(self) -> None:
        self._show_options()
        info, task = self._session.info, self.task
        if self._spec is not None and task is not None and (info is None or info.task != task):
            self._load(self._spec, task)

    def _failed(self, error: BackendError) -> None:
        self._status(f"{error.title}: {error.message}")
        self.notify(error.message, title=error.title, severity="error", timeout=10)

    # -- running -------------------------------------------------------------------------

    def action_run_text(self) -> None:
        text = self.query_one("#tasks-text", TextArea).text
        info = self._session.info
        if info is not None and info.task == "feature-extraction":
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            items = [TaskInput("text", line, line[:60]) for line in lines]
        else:
            items = [TaskInput("text", text, text.strip()[:60])]
        self._source = None
        self.run_items(items)

    @on(Input.Submitted, "#tasks-file")
    def _run_file(self) -> None:
        path = self.query_one("#tasks-file", PathInput).path
        if path is None:
            self.notify("Type the path of a file first (Tab completes it).")
            return
        info = self._session.info
        try:
            if self.query_one("#tasks-batch", Checkbox).value:
                items = read_batch_file(path, info.input_kind if info else "text")
            else:
                items = [input_from_path(path)]
        except BackendError as error:
            self._failed(error)
            return
        self._source = path
        self.run_items(items)

    def run_items(self, items: list[TaskInput]) -> None:
        info = self._session.info
        if info is None:
            self.notify("No task model is loaded. Press ctrl+o to pick one.", severity="warning")
            return
        if self.busy:
            self.notify("A run is going: Esc stops it.")
            return
        if len(items) == 1:
            why = refusal(info.task, items[0])
            if why is not None:  # refused here: nothing goes to the engine
                self._failed(BackendError(why, title="Wrong kind of input"))
                return
        try:
            options = self.query_one(TaskOptionsRow).options(len(items))
        except BackendError as error:
            self._failed(error)
            return
        self._items.clear()
        self._total = len(items)
        self.query_one(ResultsPane).start(len(items))
        self._run += 1
        self._cancel = cancel = threading.Event()
        self._status(f"Running {len(items)} input(s)… (Esc stops)")
        self._run_worker(items, options, cancel, self._run)

    @work(thread=True, exclusive=True, group="tasks-run", exit_on_error=False)
    def _run_worker(
        self, items: list[TaskInput], options: TaskOptions, cancel: threading.Event, run: int
    ) -> None:
        pending: list[TaskEvent] = []
        flushed = time.monotonic()
        try:
            for event in self._session.run(items, options, cancel):
                pending.append(event)
                now = time.monotonic()
                if now - flushed >= FLUSH_S or isinstance(event, BatchFinished):
                    self.post_message(self.Progressed(run, pending))
                    pending, flushed = [], now
        except BackendError as error:
            self.post_message(self.Progressed(run, pending, error))

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        if message.run != self._run:
            return
        pane = self.query_one(ResultsPane)
        for event in message.events:
            if isinstance(event, (ItemDone, ItemFailed)):
                self._items.append(event)
                pane.add_row(event)
            elif isinstance(event, BatchFinished):
                self._finished(event)
            elif isinstance(event, BatchStarted):
                self._total = event.total
        if self._cancel is not None and self._items:
            self._status(f"{len(self._items)} of {self._total} done… (Esc stops)")
        if message.error is not None:
            self._cancel = None
            self._failed(message.error)

    def _finished(self, event: BatchFinished) -> None:
        self._cancel = None
        stopped = event.reason == "cancelled"
        what = "Stopped" if stopped else "Done"
        count = f"{event.done} of {self._total}" + (" done" if stopped else "")
        speed = f", {event.items_per_s:.1f}/s" if event.items_per_s else ""
        failed = f", {event.failed} failed" if event.failed else ""
        self._status(f"{what}: {count} in {event.elapsed_s:.2f} s{speed}{failed}. ctrl+s exports.")
        if self._items:
            self._show_item(self._items[0])
        if len(self._items) == 1 and isinstance(self._items[0], ItemFailed):
            failed_item = self._items[0]
            self.notify(failed_item.message, title=failed_item.title, severity="error")

    @on(DataTable.RowHighlighted, "#tasks-items")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        found = [i for i in self._items if str(i.index) == key]
        if found and not self.busy:
            self._show_item(found[0])

    def _show_item(self, item: ItemDone | ItemFailed) -> None:
        threshold = self.query_one(TaskOptionsRow).threshold_text
        view = shown_view(item, self._items, self._session.info, threshold)
        self.query_one(ResultsPane).show(item, view)

    # -- actions -------------------------------------------------------------------------

    def action_stop(self) -> None:
        """Esc: stop a run (between items), else close the export line, else go back to
        where the user came from."""
        export_row = self.query_one(ExportRow)
        if self._cancel is not None:
            self._cancel.set()
            self._status("Stopping after this item…")
        elif export_row.is_open:
            export_row.close()
        else:
            self.app.action_back()  # type: ignore[attr-defined]

    def action_export(self) -> None:
        if not self._items:
            self.notify("There are no results to export yet.")
            return
        self.query_one(ExportRow).open(self._items, self._source)

    @on(ExportRow.Saved)
    def _saved(self, event: ExportRow.Saved) -> None:
        self._status(f"Saved {event.count} result(s) to {event.path}")
        self.notify(f"Saved to {event.path}", title="Results exported")

    @on(ExportRow.Failed)
    def _save_failed(self, event: ExportRow.Failed) -> None:
        self._failed(event.error)

    def action_ask_chat(self) -> None:
        """ctrl+g: summarisation, translation, QA or captioning as a prompt to the chat model
        (for a model that cannot do it here); the prompt waits in the chat's box."""
        from tui.tasks.ask_chat import hand_task_to_chat

        text = self.query_one("#tasks-text", TextArea).text
        question = self.query_one("#tasks-question", Input).value
        picture = self.query_one("#tasks-file", PathInput).path
        hand_task_to_chat(self.app, self.task, text, question, picture)

    def palette_commands(self) -> list[SystemCommand]:
        """This screen's actions for the command palette (ctrl+p)."""
        return [
            SystemCommand("Run the typed text", "Through the task model (ctrl+r)",
                          self.action_run_text),
            SystemCommand("Pick a task model", "NER, classification, detection… (ctrl+o)",
                          self.action_pick_model),
            SystemCommand("Export the results", ".jsonl or .csv (ctrl+s)", self.action_export),
            SystemCommand("Ask the chat model instead", "Summarise, translate, answer, caption "
                          "(ctrl+g)", self.action_ask_chat),
        ]  # fmt: skip
