"""The Images screen's model line: loading a model in a worker, making room on the GPU, the
model remembered from the last run (offered, then loaded when the user first generates), and
the device gauge's "which model holds this memory" label.

A mixin for `ImagesScreen`, which provides what `_ScreenParts` names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.widgets import Static

from backends.base import LoadProgress, ModelSpec
from backends.errors import BackendError
from backends.image.protocol import ImageCapabilities
from tui.images.image_form import ImageForm
from tui.load_line import load_line

if TYPE_CHECKING:
    from textual.screen import Screen

    from backends.device import DeviceMonitor
    from backends.image.jobs import ImageQueue
    from backends.image.session import ImageModelSession
    from backends.settings import Settings

    class _ScreenParts(Screen[None]):
        settings: Settings
        session: ImageModelSession
        monitor: DeviceMonitor | None
        queue: ImageQueue
        _ready: bool

        def _start_drain(self) -> None: ...
        def _refresh_queue(self) -> None: ...
        def show_problem(self, text: str, *, title: str) -> None: ...
        def clear_problem(self) -> None: ...
else:
    _ScreenParts = object


class ImageModelControl(_ScreenParts):
    """Loading and showing the image model (mixed into ImagesScreen)."""

    _loading: ModelSpec | None = None
    _pending_model: ModelSpec | None = None
    _remembered: ModelSpec | None = None  # last run's model, not loaded yet

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
    class RoomNeeded(Message):
        spec: ModelSpec
        question: str

    # -- the model line --------------------------------------------------------------------

    def _show_model(self, text: str | None = None) -> None:
        label = self.query_one("#image-model", Static)
        spec = self.session.spec
        if text is not None:
            label.update(text)
        elif spec is not None:
            where = f" on {spec.server.name}" if spec.server is not None else ""
            label.update(f"{spec.name} ({spec.engine}{where})")
        elif self._remembered is not None:
            label.update(
                f"No image model loaded · last used: {self._remembered.name} (loads when you "
                "generate) · ctrl+o picks another"
            )
        else:
            label.update("No image model · ctrl+o picks one")

    def _offer_last_model(self) -> None:
        """Remember last run's model without loading it (no diffusers import at start)."""
        if self.session.spec is None and self._loading is None:
            from backends.image.session import last_model

            self._remembered = last_model(self.settings)
        self._show_model()

    def _show_usage(self) -> None:
        """Tell the device gauge which image model its engine host's memory belongs to."""
        from tui.widgets.device_gauge import DeviceGauge

        spec = self.session.spec
        for gauge in self.query(DeviceGauge):
            label = f"{spec.name} · {spec.engine}" if spec is not None else "no image model"
            gauge.set_model_usage(label, None)
            gauge.sample_now()

    # -- loading ---------------------------------------------------------------------------

    def load_model(self, spec: ModelSpec) -> None:
        """Load `spec` in a worker (replacing the current image model). On a GPU that
        cannot hold it beside the chat model, first ask to unload that (or do it, or not,
        per `images.unload_chat_model`)."""
        if not self._ready:  # pushed a moment ago: load once the form is there
            self._pending_model = spec
            return
        if self.queue.pending():
            self.notify(
                "An image is being made. Cancel it (Esc) or wait, then switch models.",
                title="Busy",
                severity="warning",
            )
            return
        self._loading = spec
        self.queue.wake()  # a worker waiting for the next job sees the switch and ends
        self._remembered = None
        self._show_model(load_line(spec.name))
        self._load_worker(spec, check_room=True)

    def _room_question(self, spec: ModelSpec) -> str | None:
        """The question to ask when the chat model holds GPU memory this model needs."""
        from tui.images.room_offer import room_question

        return room_question(self.app, self.settings, spec, self._monitor())

    def _monitor(self) -> DeviceMonitor:
        from backends.device import DeviceMonitor

        return self.monitor or DeviceMonitor()

    @work(thread=True, exclusive=True, group="image-load", exit_on_error=False)
    def _load_worker(
        self, spec: ModelSpec, check_room: bool = False, unload_chat: bool = False
    ) -> None:
        settings = self.settings
        post = self.post_message
        if check_room:
            question = self._room_question(spec)
            if question is not None and settings.images.unload_chat_model == "ask":
                post(self.RoomNeeded(spec, question))
                return
            unload_chat = question is not None
        if unload_chat:
            self.app.manager.unload()
            self.app.call_from_thread(
                self.notify,
                "The chat model was unloaded to make room on the GPU.",
            )
        try:
            caps = self.session.load(spec, progress=lambda p: post(self.ModelLoading(p)))
        except BackendError as error:
            post(self.ModelFailed(spec, error))
            return
        post(self.ModelReady(spec, caps))

    @work
    async def on_image_model_control_room_needed(self, message: RoomNeeded) -> None:
        from tui.screens.confirm import ConfirmScreen

        unload = await self.app.push_screen_wait(
            ConfirmScreen(message.question, yes="unload the chat model", no="load anyway")
        )
        self._load_worker(message.spec, unload_chat=bool(unload))

    def on_image_model_control_model_loading(self, message: ModelLoading) -> None:
        if self._loading is not None:
            self._show_model(load_line(self._loading.name, message.progress.message))

    def on_image_model_control_model_ready(self, message: ModelReady) -> None:
        self._loading = None
        self.query_one(ImageForm).set_capabilities(message.capabilities, defaults=True)
        self.clear_problem()  # "Pick an image model first" is answered
        self._show_model()
        self._show_usage()
        self._start_drain()  # jobs queued while loading start now

    def on_image_model_control_model_failed(self, message: ModelFailed) -> None:
        self._loading = None
        self._show_model(f"{message.spec.name} did not load · ctrl+o picks another")
        self._models_failed(message.error)

    def _models_failed(self, error: BackendError) -> None:
        """Jobs queued for a model that did not load are dropped, and the user is told."""
        dropped = [job for job in self.queue.pending() if job.state == "queued"]
        self.queue.cancel_all()
        self._refresh_queue()
        extra = f" {len(dropped)} queued image(s) were dropped." if dropped else ""
        self.show_problem(error.message + extra, title=error.title)

    def action_pick_model(self) -> None:
        from tui.images.image_model_picker import ImageModelPicker

        def chosen(spec: ModelSpec | None) -> None:
            if spec is not None:
                self.load_model(spec)

        self.app.push_screen(ImageModelPicker(self.settings), chosen)
