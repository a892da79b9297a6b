"""The Images screen: the form on the left; the picture, progress and queue on the right.

Jobs line up in an ImageQueue and one thread worker makes them one after the other
(`backends.image.jobs.run_job`), posting coalesced step messages (at most every 50 ms, and
always the last step) so the UI never steals the engine's CPU. Each finished image is
already saved (PNG + gallery row) when it reaches the screen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker

from backends.base import LoadProgress, ModelSpec
from backends.errors import BackendError
from backends.image.jobs import ImageJob, ImageQueue, JobOutcome, run_job
from backends.image.protocol import GenerationCancelled, ImageCapabilities, ImageStep
from tui.images.image_form import ImageForm, resolve_seeds
from tui.images.job_progress import JobProgress
from tui.widgets.image_preview import ImagePreview

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.widget import Widget

    from backends.device import DeviceMonitor
    from backends.image.session import ImageModelSession
    from backends.settings import Settings
    from backends.store.gallery import GalleryImage, GalleryStore

STEP_FLUSH_S = 0.05


class ImagesScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+g", "generate", "Generate", id="images.generate", priority=True),
        Binding("escape", "cancel_running", "Cancel", id="images.cancel"),
        Binding("delete", "remove_job", "Remove queued", show=False, id="images.remove"),
        Binding("ctrl+o", "pick_model", "Model", id="images.pick_model"),
        Binding("ctrl+l", "open_gallery", "Gallery", id="images.gallery"),
        Binding("ctrl+r", "clear_start_image", "Clear start image", show=False, id="images.clear"),
    ]

    @dataclass
    class ModelLoading(Message):
        progress: LoadProgress

    @dataclass
    class ModelReady(Message):
        spec: ModelSpec
        capabilities: ImageCapabilities

    @dataclass
    class ModelFailed(Message):
        spec: ModelSpec
        error: BackendError

    @dataclass
    class JobStep(Message):
        job: ImageJob
        step: ImageStep

    @dataclass
    class JobEnded(Message):
        """A job left the queue: `outcome` when saved, else `error` (cancelled or failed)."""

        job: ImageJob
        outcome: JobOutcome | None
        error: BackendError | None
        finished_at: float

    def __init__(
        self,
        settings: Settings,
        session: ImageModelSession,
        gallery: GalleryStore,
        monitor: DeviceMonitor | None = None,
        gauge_factory: Callable[[], Widget] | None = None,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self._gauge_factory = gauge_factory
        self.settings = settings
        self.session = session
        self.gallery = gallery
        self.queue = ImageQueue()
        self.last_seed: int | None = None
        self.last_saved: GalleryImage | None = None
        self._loading: ModelSpec | None = None
        self._draining = False  # a worker is taking jobs (set and cleared on the UI thread)
        self._pending_model: ModelSpec | None = None
        self._ready = False  # on_mount ran (Textual's is_mounted turns true only after it)

    def compose(self) -> ComposeResult:
        with Horizontal(id="image-status"):
            yield Static("No image model · ctrl+o picks one", id="image-model", markup=False)
        with Horizontal(id="image-body"):
            yield ImageForm(
                negative_prompt=self.settings.images.default_negative_prompt, id="image-form"
            )
            with Vertical(id="image-right"):
                yield ImagePreview(
                    "The picture shows here. Write a prompt, then ctrl+g.",
                    renderer=self.settings.images.renderer,  # type: ignore[arg-type]
                    id="image-preview",
                )
                yield Static("", id="image-caption", markup=False)
                yield JobProgress(id="image-jobs")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#image-prompt").focus()
        self._show_model()
        self._warm_preview()
        self.call_after_refresh(self._mount_gauge)
        self._ready = True
        if self._pending_model is not None:
            spec, self._pending_model = self._pending_model, None
            self.load_model(spec)

    async def _mount_gauge(self) -> None:
        """RAM / VRAM and each engine host's memory (the chat's and this screen's), after
        the first frame like the chat screen's."""
        from tui.widgets.device_gauge import DeviceGauge

        gauge = self._gauge_factory() if self._gauge_factory else DeviceGauge()
        await self.mount(gauge, after=self.query_one("#image-status"))
        from tui.widgets.remote_box import mount_remote_box

        await mount_remote_box(self, self.settings, after=gauge)  # the servers' VRAM

    @work(thread=True, exit_on_error=False)
    def _warm_preview(self) -> None:
        """Import textual-image now (~0.3 s), not when the first picture is due."""
        from tui.widgets.image_preview import image_widget_class

        image_widget_class(self.settings.images.renderer)  # type: ignore[arg-type]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.report_worker_failure(event)  # type: ignore[attr-defined]

    def palette_commands(self) -> list[SystemCommand]:
        return [
            SystemCommand("Generate image", "Queue the prompt (ctrl+g)", self.action_generate),
            SystemCommand(
                "Pick image model", "Load a diffusion model (ctrl+o)", self.action_pick_model
            ),
            SystemCommand("Image gallery", "Past images (ctrl+l)", self.action_open_gallery),
        ]

    # -- model -----------------------------------------------------------------------------

    def _show_model(self, text: str | None = None) -> None:
        label = self.query_one("#image-model", Static)
        if text is not None:
            label.update(text)
        elif self.session.spec is not None:
            spec = self.session.spec
            where = f" on {spec.server.name}" if spec.server is not None else ""
            label.update(f"{spec.name} ({spec.engine}{where})")
        else:
            label.update("No image model · ctrl+o picks one")

    def load_model(self, spec: ModelSpec) -> None:
        """Load `spec` in a worker (replacing the current image model). On a GPU that
        cannot hold it beside the chat model, first ask to unload that (or do it, or not,
        per `images.unload_chat_model`)."""
        if not self._ready:  # pushed a moment ago: load once the form is there
            self._pending_model = spec
            return
        if self._draining:
            self.notify(
                "An image is being made. Cancel it (Esc) or wait, then switch models.",
                title="Busy",
                severity="warning",
            )
            return
        self._loading = spec
        self._show_model(f"Loading {spec.name}…")
        self._load_worker(spec, check_room=True)

    @dataclass
    class RoomNeeded(Message):
        spec: ModelSpec
        question: str

    def _room_question(self, spec: ModelSpec) -> str | None:
        """The question to ask when the chat model holds GPU memory this model needs."""
        from tui.images.room_offer import room_question

        return room_question(self.app, self.settings, spec, self._monitor())

    def _monitor(self):  # noqa: ANN202
        from backends.device import DeviceMonitor

        return self.monitor or DeviceMonitor()

    @work(thread=True, exclusive=True, group="image-load", exit_on_error=False)
    def _load_worker(
        self, spec: ModelSpec, check_room: bool = False, unload_chat: bool = False
    ) -> None:
        if check_room:
            question = self._room_question(spec)
            if question is not None and self.settings.images.unload_chat_model == "ask":
                self.post_message(self.RoomNeeded(spec, question))
                return
            unload_chat = question is not None
        if unload_chat:
            self.app.manager.unload()  # type: ignore[attr-defined]
            self.app.call_from_thread(
                self.notify, "The chat model was unloaded to make room on the GPU."
            )
        try:
            caps = self.session.load(
                spec, progress=lambda p: self.post_message(self.ModelLoading(p))
            )
        except BackendError as error:
            self.post_message(self.ModelFailed(spec, error))
            return
        self.post_message(self.ModelReady(spec, caps))

    @work
    async def on_images_screen_room_needed(self, message: RoomNeeded) -> None:
        from tui.screens.confirm import ConfirmScreen

        unload = await self.app.push_screen_wait(
            ConfirmScreen(message.question, yes="unload the chat model", no="load anyway")
        )
        self._load_worker(message.spec, unload_chat=bool(unload))

    def on_images_screen_model_loading(self, message: ModelLoading) -> None:
        if self._loading is not None:
            self._show_model(f"{self._loading.name}: {message.progress.message}")

    def on_images_screen_model_ready(self, message: ModelReady) -> None:
        self._loading = None
        self.query_one(ImageForm).set_capabilities(message.capabilities, defaults=True)
        self._show_model()
        self._start_drain()  # jobs queued while loading start now

    def on_images_screen_model_failed(self, message: ModelFailed) -> None:
        self._loading = None
        self._show_model(f"{message.spec.name} did not load · ctrl+o picks another")
        self.notify(message.error.message, title=message.error.title, severity="error", timeout=10)

    def action_pick_model(self) -> None:
        from tui.images.image_model_picker import ImageModelPicker

        def chosen(spec: ModelSpec | None) -> None:
            if spec is not None:
                self.load_model(spec)

        self.app.push_screen(ImageModelPicker(self.settings), chosen)

    # -- queue -----------------------------------------------------------------------------

    def action_generate(self) -> None:
        form = self.query_one(ImageForm)
        try:
            values = form.read()
        except ValueError as error:
            form.show_error(str(error))
            return
        form.show_error("")
        if self.session.engine is None and self._loading is None:
            form.show_error("Pick an image model first (ctrl+o).")
            return
        seeds = resolve_seeds(values, self.last_seed)
        from dataclasses import replace

        live = self.settings.images.live_preview
        for seed in seeds:
            self.queue.add(replace(values.request, seed=seed, live_preview=live))
        self.last_seed = seeds[-1]
        self._refresh_queue()
        self._start_drain()

    def _start_drain(self) -> None:
        if not self._draining and self._loading is None and self.session.engine is not None:
            self._draining = True
            self._drain()

    @dataclass
    class QueueIdle(Message):
        """The worker took the last job and stopped."""

    def on_images_screen_queue_idle(self) -> None:
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
        engine, spec = self.session.engine, self.session.spec
        if engine is None or spec is None:
            return
        outputs = self.settings.images.resolved_outputs_dir()
        while (job := self.queue.take()) is not None:
            last_post = 0.0

            def on_step(step: ImageStep, job: ImageJob = job) -> None:
                nonlocal last_post
                now = time.monotonic()
                due = step.step == step.total or step.preview is not None
                if due or now - last_post >= STEP_FLUSH_S:
                    last_post = now
                    self.post_message(self.JobStep(job, step))

            outcome: JobOutcome | None = None
            error: BackendError | None = None
            try:
                with self.session.job_lock:  # a picture asked for in the chat goes first
                    outcome = run_job(
                        engine,
                        job,
                        model=spec.name,
                        outputs_dir=outputs,
                        gallery=self.gallery,
                        on_step=on_step,
                    )
            except BackendError as failure:
                error = failure
            except Exception as failure:  # the app never dies of an engine bug
                error = BackendError(f"{type(failure).__name__}: {failure}", title="Image failed")
            state = (
                "done"
                if outcome
                else "cancelled"
                if isinstance(error, GenerationCancelled)
                else "failed"
            )
            self.queue.finish(job, state)  # type: ignore[arg-type]
            self.post_message(self.JobEnded(job, outcome, error, time.perf_counter()))

    async def on_images_screen_job_step(self, message: JobStep) -> None:
        step = message.step
        if step.preview is not None and not message.job.cancel.is_set():
            await self.query_one(ImagePreview).show(step.preview)
        self.query_one(JobProgress).show_step(message.job, step, self.queue.pending())

    async def on_images_screen_job_ended(self, message: JobEnded) -> None:
        self._refresh_queue()
        jobs = self.query_one(JobProgress)
        if message.outcome is not None:
            saved = message.outcome.saved
            await self.query_one(ImagePreview).show(message.outcome.result.image)
            result = message.outcome.result
            rate = f" · {result.steps_per_s:.2f} it/s" if result.steps_per_s else ""
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
            jobs.say("Failed")
            self.notify(
                message.error.message, title=message.error.title, severity="error", timeout=10
            )

    def _refresh_queue(self) -> None:
        self.query_one(JobProgress).show_jobs(self.queue.pending())

    def action_cancel_running(self) -> None:
        job = self.queue.running
        if job is not None:
            self.queue.cancel(job.id)
            self.query_one(JobProgress).say("Cancelling…")

    def action_remove_job(self) -> None:
        job_id = self.query_one(JobProgress).selected_job_id()
        if job_id is not None:
            self.queue.cancel(job_id)
        self._refresh_queue()

    def cancel_all(self) -> None:
        self.queue.cancel_all()

    def on_unmount(self) -> None:
        self.queue.cancel_all()

    # -- gallery ---------------------------------------------------------------------------

    def action_open_gallery(self) -> None:
        from tui.images.gallery_screen import GalleryScreen

        self.app.push_screen(
            GalleryScreen(self.gallery, renderer=self.settings.images.renderer),  # type: ignore[arg-type]
            self._from_gallery,
        )

    def _from_gallery(self, choice: tuple[str, GalleryImage] | None) -> None:
        if choice is None:
            return
        from backends.image.png_metadata import request_from_parameters

        action, image = choice
        form = self.query_one(ImageForm)
        form.fill(request_from_parameters(image.parameters))
        if action == "img2img":
            form.set_start_image(image.path)
            self.notify(f"Image to image from {Path(image.path).name}; ctrl+r clears it.")
        else:
            self.notify("Parameters refilled from the gallery (seed fixed).")

    def action_clear_start_image(self) -> None:
        self.query_one(ImageForm).set_start_image(None)
