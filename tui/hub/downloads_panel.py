"""The download queue as a panel: per-job rows with progress, pause/resume, cancel, remove.

The panel is the queue's one event consumer: a `set_interval` timer drains
`DownloadQueue.drain_events()` at most 10 times a second (never per chunk) and updates rows in
place. Two messages bubble up to the screen and on to the app:

- `DownloadsPanel.DownloadFinished(repo_id, files, snapshot_dir)` when a job completes: the app
  handles it (`@on(DownloadsPanel.DownloadFinished)`) by refreshing its model catalog, so the
  model shows in the chat model picker at once. Also importable as `DownloadFinished`.
- `DownloadsPanel.AccessNeeded(repo_id, job_id, message)` when a job failed because the repo is
  gated or private; the Hub screen answers with the token prompt and resumes the job.

Mount only one panel per queue: draining events is destructive.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import ListItem, ListView, Static

from backends.errors import AuthRequired
from backends.hub.download_queue import DownloadEvent, DownloadQueue, DownloadSnapshot
from tui.hub.download_row import DownloadRow
from tui.human_units import human_speed

POLL_HZ = 10


class DownloadsPanel(Widget):
    """Every job in the queue, newest last; keys act on the highlighted job."""

    DEFAULT_CSS = """
    DownloadsPanel {
        height: auto;
        max-height: 45%;
        border-top: solid $primary-muted;
        background: $panel;
    }
    DownloadsPanel.-empty { display: none; }
    DownloadsPanel #downloads-title { height: 1; padding: 0 1; color: $text-accent; }
    DownloadsPanel ListView { height: auto; background: $panel; }
    DownloadsPanel ListItem { height: auto; }
    """

    BINDINGS = [
        Binding("p", "toggle_pause", "Pause/resume", id="downloads.pause"),
        Binding("x", "cancel", "Cancel", id="downloads.cancel"),
        Binding("delete", "remove", "Remove", id="downloads.remove"),
    ]

    @dataclass
    class DownloadFinished(Message):
        """A download completed. `files` are repo paths; `snapshot_dir` holds them on disk."""

        repo_id: str
        files: tuple[str, ...]
        snapshot_dir: str | None = None

    @dataclass
    class AccessNeeded(Message):
        """A job failed on a gated/private repo; answer with a token and `retry(job_id)`."""

        repo_id: str
        job_id: str
        message: str

    def __init__(self, queue: DownloadQueue, *, id: str | None = "downloads") -> None:
        super().__init__(id=id)
        self.queue = queue
        self._jobs: dict[str, DownloadSnapshot] = {}
        self._announced: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static("Downloads", id="downloads-title")
        yield ListView(id="downloads-list")

    def on_mount(self) -> None:
        self.queue.drain_events()  # what happened before we looked is in jobs()
        for job in self.queue.jobs():
            self._jobs[job.job_id] = job
            if job.state in ("done", "failed"):
                self._announced.add(job.job_id)
        self._rebuild()
        self.set_interval(1 / POLL_HZ, self.poll)

    # polling --------------------------------------------------------------------------------

    def poll(self) -> None:
        """Apply the queue's pending events (called by the timer; tests may call it too)."""
        events = self.queue.drain_events()
        if not events:
            return
        added_or_removed = False
        for event in events:
            added_or_removed |= self._apply(event)
        if added_or_removed:
            self._rebuild()
        else:
            for job_id in {e.job.job_id for e in events}:
                self._update_row(job_id)
        self._update_title()

    def _apply(self, event: DownloadEvent) -> bool:
        job = event.job
        if event.kind == "removed":
            self._jobs.pop(job.job_id, None)
            return True
        is_new = job.job_id not in self._jobs
        self._jobs[job.job_id] = job
        if job.state == "done" and job.job_id not in self._announced:
            self._announced.add(job.job_id)
            files = tuple(f.path for f in job.files)
            self.post_message(self.DownloadFinished(job.repo_id, files, job.snapshot_dir))
        elif job.state == "failed" and job.job_id not in self._announced:
            self._announced.add(job.job_id)
            if job.error_title == AuthRequired.title:
                message = job.error_message or f"{job.repo_id} needs an access token."
                self.post_message(self.AccessNeeded(job.repo_id, job.job_id, message))
        elif job.state in ("queued", "running"):
            self._announced.discard(job.job_id)
        return is_new

    # drawing --------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        view = self.query_one(ListView)
        keep = view.index
        view.clear()
        view.extend(ListItem(DownloadRow(job)) for job in self._jobs.values())
        if self._jobs:
            view.index = min(keep or 0, len(self._jobs) - 1)
        self._update_title()

    def _update_row(self, job_id: str) -> None:
        for row in self.query(DownloadRow):
            if row.job.job_id == job_id and job_id in self._jobs:
                row.show(self._jobs[job_id])

    def _update_title(self) -> None:
        self.set_class(not self._jobs, "-empty")
        active = [j for j in self._jobs.values() if j.state in ("queued", "running")]
        speed = sum(j.speed_bps for j in active)
        text = f"Downloads · {len(active)} active"
        if speed:
            text += f" · {human_speed(speed)}"
        if self._jobs:
            text += "   p pause/resume · x cancel · del remove"
        self.query_one("#downloads-title", Static).update(text)

    # actions --------------------------------------------------------------------------------

    @property
    def jobs(self) -> list[DownloadSnapshot]:
        """The jobs as last drawn (what the user sees)."""
        return list(self._jobs.values())

    def focus_actionable(self) -> None:
        """Focus the list with the cursor on the first download p or x acts on (running,
        queued, paused or failed), not on a finished one where both do nothing."""
        view = self.query_one(ListView)
        jobs = list(self._jobs.values())
        live = [i for i, j in enumerate(jobs) if j.state in ("running", "queued", "paused")]
        failed = [i for i, j in enumerate(jobs) if j.state == "failed"]
        if live or failed:
            view.index = (live or failed)[0]
        view.focus()

    def _selected(self) -> DownloadSnapshot | None:
        view = self.query_one(ListView)
        if view.highlighted_child is None:
            return None
        return view.highlighted_child.query_one(DownloadRow).job

    def action_toggle_pause(self) -> None:
        job = self._selected()
        if job is None:
            return
        if job.state in ("running", "queued"):
            self.queue.pause(job.job_id)
        elif job.state in ("paused", "failed"):
            self.queue.resume(job.job_id)

    def action_cancel(self) -> None:
        job = self._selected()
        if job is not None:
            self.queue.cancel(job.job_id)

    def action_remove(self) -> None:
        job = self._selected()
        if job is not None:
            self.queue.remove(job.job_id)

    def retry(self, job_id: str) -> None:
        """Resume a failed job (after the user entered a token)."""
        self._announced.discard(job_id)
        self.queue.resume(job_id)

    @on(ListView.Selected)
    def _select_toggles(self, event: ListView.Selected) -> None:
        event.stop()
        self.action_toggle_pause()


DownloadFinished = DownloadsPanel.DownloadFinished
