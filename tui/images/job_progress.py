"""The progress of the running image (bar, step, it/s, ETA) and the queue under it."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, ProgressBar, Static
from textual.widgets.data_table import CellDoesNotExist

from backends.image.jobs import ImageJob
from backends.image.protocol import ImageStep


def format_step(step: ImageStep) -> str:
    if not step.total:  # a server that reports no steps: say how long, invent nothing
        return f"Working on the server · {step.elapsed_s:.0f} s (it reports no steps)"
    text = f"Step {step.step}/{step.total}"
    if step.steps_per_s:
        text += f" · {step.steps_per_s:.2f} it/s"
    eta = step.eta_s
    if eta is not None and step.step < step.total:
        text += f" · ETA {eta:.0f} s" if eta >= 1 else " · ETA <1 s"
    return text


class JobProgress(Vertical):
    DEFAULT_CSS = """
    JobProgress { height: auto; }
    JobProgress #image-progress { width: 1fr; }
    JobProgress #image-progress Bar { width: 1fr; }
    JobProgress #image-progress-label { height: 1; }
    JobProgress #image-queue-hint { height: 1; color: $text-muted; }
    JobProgress #image-queue { height: 6; }
    """

    def compose(self) -> ComposeResult:
        # total=1, not None: an indeterminate bar redraws all the time and takes CPU from
        # the engine.
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="image-progress")
        yield Static("", id="image-progress-label", markup=False)
        yield Static("Queue · shift+del removes", id="image-queue-hint", markup=False)
        yield DataTable(id="image-queue", cursor_type="row", show_header=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Job")
        table.add_column("State", key="state")
        table.add_columns("Prompt", "Size", "Seed")

    def say(self, text: str) -> None:
        self.query_one("#image-progress-label", Static).update(text)

    def reset(self, text: str) -> None:
        """A new job started: an empty bar and `text` (not the last job's "Done in…")."""
        self.query_one(ProgressBar).update(total=1, progress=0)
        self.say(text)

    def show_step(self, job: ImageJob, step: ImageStep, jobs: list[ImageJob]) -> None:
        # total 0: no step count from the server; an indeterminate bar, not an invented one.
        self.query_one(ProgressBar).update(total=step.total or None, progress=step.step)
        self.say(format_step(step))
        state = f"{step.step}/{step.total}" if step.total else f"{step.elapsed_s:.0f} s"
        try:  # only the running row's state changes: no rebuild of the list per step
            self.query_one(DataTable).update_cell(str(job.id), "state", state)
        except CellDoesNotExist:  # the row is not there yet (a job that just started)
            self.show_jobs(jobs)

    def show_jobs(self, jobs: list[ImageJob]) -> None:
        """Rebuild the list; the cursor stays on the job it was on (or, when that job left,
        on the row that took its place), never jumping to the running row."""
        table = self.query_one(DataTable)
        selected = self.selected_job_id()
        row = table.cursor_row
        table.clear()
        for job in jobs:
            if job.state == "running":
                step = job.last_step
                state = f"{step.step}/{step.total}" if step and step.total else "running"
                state = "starting" if step is None else state
            else:
                state = "queued"
            prompt = job.request.prompt.replace("\n", " ")
            table.add_row(
                f"#{job.id}",
                state,
                escape(prompt[:40] + ("…" if len(prompt) > 40 else "")),
                f"{job.request.width}×{job.request.height}",
                str(job.request.seed),
                key=str(job.id),
            )
        if not jobs:
            return
        ids = [job.id for job in jobs]
        target = ids.index(selected) if selected in ids else min(row, len(ids) - 1)
        table.move_cursor(row=max(target, 0), animate=False)

    def selected_job_id(self) -> int | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None
