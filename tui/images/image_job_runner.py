"""The Images screen's queue: one thread worker makes the jobs one after the other.

The worker runs `backends.image.jobs.run_job` for each job and posts coalesced step
messages (at most every 50 ms, and always the last step) so the UI never steals the
engine's CPU. The finished picture is posted *before* it is saved (`JobImage`), and the PNG
is encoded and written by a `BackgroundSaver` while the worker goes on to the next job (a
save took 30-80 ms, on the path from one picture to the next); `JobEnded` follows with the
gallery row (or the reason nothing was saved). A mixin for `ImagesScreen`, which provides
what `_ScreenParts` names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.widgets import Static

from backends.errors import BackendError, GenerationError
from backends.image.background_saver import BackgroundSaver
from backends.image.jobs import ImageJob, JobOutcome, engine_failure, make_image, run_job
from backends.image.outputs import save_result
from backends.image.protocol import GenerationCancelled, ImageResult, ImageStep
from tui.images.job_progress import JobProgress
from tui.widgets.image_preview import ImagePreview

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from textual.screen import Screen

    from backends.base import ModelSpec
    from backends.image.jobs import ImageQueue
    from backends.image.protocol import ImageEngine
    from backends.image.session import ImageModelSession
    from backends.settings import Settings
    from backends.store.gallery import GalleryImage, GalleryStore

    class _ScreenParts(Screen[None]):
        settings: Settings
        session: ImageModelSession
        gallery: GalleryStore
        queue: ImageQueue
        last_saved: GalleryImage | None
        _loading: object

        def show_problem(self, text: str, *, title: str) -> None: ...
else:
    _ScreenParts = object

STEP_FLUSH_S = 0.05
IDLE_S = 15.0  # how long the queue's worker waits for another job before it ends


class ImageJobRunner(_ScreenParts):
    """Running the queue and showing its progress (mixed into ImagesScreen)."""

    _draining = False  # a worker is taking jobs (set and cleared on the UI thread)
    shown_job: int | None = None  # the id of the job whose finished picture is on screen
    # Show the finished picture, then save it in the background (False: the old order, the
    # save before the picture, kept for the bench).
    show_before_save = True
    _saver: BackgroundSaver[GalleryImage] | None = None

    @dataclass
    class JobStarted(Message):
        job: ImageJob

    @dataclass
    class JobStep(Message):
        job: ImageJob
        step: ImageStep

    @dataclass
    class JobImage(Message):
        """The finished picture, not saved yet (it is being written meanwhile)."""

        job: ImageJob
        result: ImageResult

    @dataclass
    class JobEnded(Message):
        """A job left the queue: `outcome` when saved, else `error` (cancelled or failed)."""

        job: ImageJob
        outcome: JobOutcome | None
        error: BackendError | None
        finished_at: float

    @dataclass
    class QueueIdle(Message):
        """The worker took the last job and stopped."""

    # -- the worker ------------------------------------------------------------------------

    def _start_drain(self) -> None:
        if not self._draining and self._loading is None and self.session.engine is not None:
            self._draining = True
            self._drain()

    def on_image_job_runner_queue_idle(self) -> None:
        self._draining = False
        if any(job.state == "queued" for job in self.queue.pending()):
            self._start_drain()  # added after the worker's last look

    @work(thread=True, group="image-run", exit_on_error=False)
    def _drain(self) -> None:
        try:
            self._drain_queue()
        finally:
            self.post_message(self.QueueIdle())

    def _drain_queue(self) -> None:
        """Take jobs until none comes for IDLE_S (a new one then starts at once, with no
        worker to start first: measured 13-49 ms on a busy 2-core box), or a model switch
        begins (it reads `_loading` and wakes this worker)."""
        outputs = self.settings.images.resolved_outputs_dir()
        while True:
            if self._loading is not None or self.session.engine is None:
                return  # ModelReady starts a new worker for what is queued
            job = self.queue.take()
            if job is None:
                if not self.queue.wait_for_job(IDLE_S):
                    return
                continue
            self.post_message(self.JobStarted(job))
            last_post = 0.0

            def on_step(step: ImageStep, job: ImageJob = job) -> None:
                nonlocal last_post
                now = time.monotonic()
                due = step.step == step.total or step.preview is not None
                if due or now - last_post >= STEP_FLUSH_S:
                    last_post = now
                    self.post_message(self.JobStep(job, step))

            if self.show_before_save:
                self._make_then_save(job, outputs, on_step)
                continue
            outcome: JobOutcome | None = None
            error: BackendError | None = None
            try:
                with self.session.job_lock:  # a picture asked for in the chat goes first
                    engine, spec = self._engine_and_spec()
                    outcome = run_job(
                        engine,
                        job,
                        model=spec.name,
                        outputs_dir=outputs,
                        gallery=self.gallery,
                        on_step=on_step,
                        model_hash=self.session.model_hash(),
                    )
            except BackendError as failure:  # run_job turns every other exception into one
                error = failure
            self._job_over(job, outcome, error)

    def _engine_and_spec(self) -> tuple[ImageEngine, ModelSpec]:
        """The session's model now (read per job: the worker outlives a job, and the chat
        may load a model into the same session); GenerationError when none is loaded."""
        engine, spec = self.session.engine, self.session.spec
        if engine is None or spec is None:
            raise GenerationError("No image model is loaded. Pick one first (ctrl+o).")
        return engine, spec

    def _make_then_save(
        self, job: ImageJob, outputs: Path, on_step: Callable[[ImageStep], None]
    ) -> None:
        """Make the picture, post it, and hand it to the saver; the worker moves on."""
        try:
            with self.session.job_lock:  # a picture asked for in the chat goes first
                engine, spec = self._engine_and_spec()
                result = make_image(engine, job, on_step=on_step)
        except BackendError as failure:  # make_image turns every other exception into one
            self._job_over(job, None, failure)
            return
        self.post_message(self.JobImage(job, result))
        model_hash = self.session.model_hash()
        if self._saver is None:
            self._saver = BackgroundSaver(engine_failure)

        def save() -> GalleryImage:
            return save_result(
                result,
                model=spec.name,
                outputs_dir=outputs,
                gallery=self.gallery,
                model_hash=model_hash,
            )

        def saved(row: GalleryImage | None, error: BackendError | None) -> None:
            outcome = JobOutcome(result, row) if row is not None else None
            self.post_message(self.JobEnded(job, outcome, error, time.perf_counter()))

        self.queue.finish(job, "done")  # shown: the queue moves on while it is written
        self._saver.submit(save, saved)

    def _job_over(
        self, job: ImageJob, outcome: JobOutcome | None, error: BackendError | None
    ) -> None:
        state = (
            "done"
            if outcome
            else "cancelled"
            if isinstance(error, GenerationCancelled)
            else "failed"
        )
        self.queue.finish(job, state)  # type: ignore[arg-type]
        self.post_message(self.JobEnded(job, outcome, error, time.perf_counter()))

    def wait_for_saves(self, timeout: float | None = None) -> bool:
        """True once every shown picture is written (tests, and leaving the app)."""
        return self._saver is None or self._saver.wait(timeout)

    # -- what the user sees ----------------------------------------------------------------

    def on_image_job_runner_job_started(self, message: JobStarted) -> None:
        jobs = self.query_one(JobProgress)
        jobs.reset(f"Starting image #{message.job.id}…")
        jobs.show_jobs(self.queue.pending())
        self.query_one(ImagePreview).set_hint(
            f"Making image #{message.job.id}; a first look shows after a few steps."
        )

    async def on_image_job_runner_job_step(self, message: JobStep) -> None:
        step = message.step
        if step.preview is not None and not message.job.cancel.is_set():
            await self.query_one(ImagePreview).show(step.preview)
        self.query_one(JobProgress).show_step(message.job, step, self.queue.pending())

    async def on_image_job_runner_job_image(self, message: JobImage) -> None:
        await self._show_picture(message.job, message.result)

    async def _show_picture(self, job: ImageJob, result: ImageResult) -> None:
        if self.shown_job == job.id:
            return
        await self.query_one(ImagePreview).show(result.image)
        self.shown_job = job.id
        rate = f" · {result.steps_per_s:.2f} it/s" if result.steps_per_s else ""
        self.query_one(JobProgress).say(f"Done in {result.total_s:.1f} s{rate} · saving…")

    async def on_image_job_runner_job_ended(self, message: JobEnded) -> None:
        self._refresh_queue()
        jobs = self.query_one(JobProgress)
        running = self.queue.running
        later = running is not None and running.id != message.job.id  # saved while it runs
        if message.outcome is not None:
            saved = message.outcome.saved
            result = message.outcome.result
            await self._show_picture(message.job, result)
            rate = f" · {result.steps_per_s:.2f} it/s" if result.steps_per_s else ""
            if not later:
                jobs.say(f"Done in {result.total_s:.1f} s{rate}")
            caption = self.query_one("#image-caption", Static)
            caption.update(
                f"seed {saved.seed} · {saved.width}×{saved.height} · saved as gallery #{saved.id}"
            )
            caption.tooltip = saved.path
            self.last_saved = saved
        elif isinstance(message.error, GenerationCancelled):
            jobs.say("Cancelled; nothing saved")
        elif message.error is not None:
            shown = self.shown_job == message.job.id  # the picture came, the save failed
            if not later:
                jobs.say("Shown but not saved" if shown else "Failed")
            self.show_problem(message.error.message, title=message.error.title)
        if not self.queue.pending():
            self.query_one(ImagePreview).set_hint(
                "The picture shows here. Write a prompt, then ctrl+g."
            )

    def _refresh_queue(self) -> None:
        self.query_one(JobProgress).show_jobs(self.queue.pending())

    # -- cancelling ------------------------------------------------------------------------

    def action_cancel_running(self) -> None:
        """Esc: cancel the running job, else go back to where the user came from."""
        job = self.queue.running
        if job is not None:
            self.queue.cancel(job.id)
            self.query_one(JobProgress).say("Cancelling…")
        else:
            self.app.action_back()  # type: ignore[attr-defined]

    @work
    async def action_remove_job(self) -> None:
        """Drop the highlighted queued job; the running one only after a question (a
        rebuilt table must never turn Del on a queued row into cancelling the running job)."""
        job_id = self.query_one(JobProgress).selected_job_id()
        job = next((j for j in self.queue.pending() if j.id == job_id), None)
        if job is None:
            return
        if job.state == "running":
            from tui.screens.confirm import ConfirmScreen

            question = f"Image #{job.id} is being made. Stop it? (Esc also stops it.)"
            if not await self.app.push_screen_wait(
                ConfirmScreen(question, yes="stop it", no="let it finish")
            ):
                return
        self.queue.cancel(job.id)
        self._refresh_queue()

    def cancel_all(self) -> None:
        self.queue.cancel_all()

    def on_unmount(self) -> None:
        self.queue.cancel_all()
        self.queue.close()  # the worker waiting for a next job ends now
