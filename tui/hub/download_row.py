"""One download job as three lines: what and how fast, total progress, current file progress."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label, ProgressBar, Static

from backends.hub.download_queue import DownloadSnapshot
from tui.cell_text import clip
from tui.human_units import human_bytes, human_duration, human_speed

_STATE_MARK = {
    "queued": ("…", "queued"),
    "running": ("▶", "downloading"),
    "paused": ("⏸", "paused"),
    "done": ("✓", "done"),
    "failed": ("✗", "failed"),
    "cancelled": ("■", "cancelled"),
}


def describe_job(job: DownloadSnapshot) -> str:
    """The headline of a job: mark, repo, state, bytes, speed and ETA (plain text)."""
    mark, state = _STATE_MARK[job.state]
    parts = [f"{mark} {job.repo_id}", state]
    if job.total_bytes:
        parts.append(f"{human_bytes(job.done_bytes)} / {human_bytes(job.total_bytes)}")
    if job.state == "running":
        parts += [human_speed(job.speed_bps), f"ETA {human_duration(job.eta_s)}"]
    if job.state == "failed" and job.error_message:
        parts.append(job.error_message)
    return " · ".join(parts)


class DownloadRow(Widget):
    """A job's headline and two ProgressBars (whole job, file in flight); updated in place."""

    DEFAULT_CSS = """
    DownloadRow {
        height: auto;
        padding: 0 1;
    }
    DownloadRow .headline { width: 1fr; height: 1; }
    DownloadRow.-failed .headline { color: $error; }
    DownloadRow.-done .headline { color: $success; }
    DownloadRow Horizontal { height: 1; }
    DownloadRow.-done Horizontal, DownloadRow.-cancelled Horizontal { display: none; }
    DownloadRow.-single .file { display: none; }
    DownloadRow .bar-label { width: 30; height: 1; color: $text-muted; }
    DownloadRow ProgressBar { width: 1fr; height: 1; }
    DownloadRow ProgressBar Bar { width: 1fr; }
    """

    def __init__(self, job: DownloadSnapshot) -> None:
        super().__init__(id=f"job-{job.job_id}")
        self.job = job

    def compose(self) -> ComposeResult:
        yield Static(classes="headline")
        with Horizontal(classes="total"):
            yield Label("total", classes="bar-label")
            yield ProgressBar(show_eta=False, id="total-bar")
        with Horizontal(classes="file"):
            yield Label("", classes="bar-label", id="file-label")
            yield ProgressBar(show_eta=False, id="file-bar")

    def on_mount(self) -> None:
        self.show(self.job)

    def show(self, job: DownloadSnapshot) -> None:
        """Redraw for a newer snapshot of the same job."""
        self.job = job
        for state in _STATE_MARK:
            self.set_class(job.state == state, f"-{state}")
        self.query_one(".headline", Static).update(describe_job(job))
        total = self.query_one("#total-bar", ProgressBar)
        if job.total_bytes:
            total.update(total=job.total_bytes, progress=job.done_bytes)
        n_files = len(job.files)
        self.set_class(n_files <= 1, "-single")  # the total bar says it all
        done_files = sum(f.done for f in job.files)
        self.query_one(".total .bar-label", Label).update(
            f"total · {done_files}/{n_files} files" if n_files else "total"
        )
        current = next((f for f in job.files if f.path == job.current_file), None)
        if current is None and job.files:
            current = next((f for f in job.files if not f.done), job.files[-1])
        file_bar = self.query_one("#file-bar", ProgressBar)
        file_label = self.query_one("#file-label", Label)
        if current is None:
            file_label.update("resolving files…" if job.state == "running" else "")
            return
        name = current.path.rsplit("/", 1)[-1]
        file_label.update(clip(name, 30, left=True))
        file_bar.update(total=max(current.size, 1), progress=current.done_bytes)
