"""The Images screen: the form on the left; the picture, progress and queue on the right.

This file composes the screen and holds the form's actions (generate, the gallery);
`image_model_control.py` loads and shows the model, `image_job_runner.py` runs the queue.
Each finished image is on screen as soon as it is made and saved (PNG + gallery row) right
after.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker

from backends.image.jobs import ImageQueue
from tui.images.image_form import FormProblem, ImageForm, resolve_seeds
from tui.images.image_job_runner import ImageJobRunner
from tui.images.image_model_control import ImageModelControl
from tui.images.job_progress import JobProgress
from tui.stylesheets import STYLES
from tui.widgets.image_preview import ImagePreview
from tui.widgets.navigation_bar import NavigationBar

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.widget import Widget

    from backends.base import ModelSpec
    from backends.device import DeviceMonitor
    from backends.image.session import ImageModelSession
    from backends.settings import Settings
    from backends.store.gallery import GalleryImage, GalleryStore


class ImagesScreen(ImageModelControl, ImageJobRunner, Screen[None]):
    CSS_PATH = STYLES / "images.tcss"  # parsed as the screen first opens
    BINDINGS = [
        # The footer shows these in this order, the most used first; at 80 columns all of
        # them and the app's Quit and Keys fit before the palette key.
        Binding("ctrl+g", "generate", "Generate", id="images.generate", priority=True),
        Binding("ctrl+o", "pick_model", "Model", id="images.pick_model"),
        Binding("ctrl+l", "open_gallery", "Gallery", id="images.gallery"),
        Binding("escape", "cancel_running", "Stop/back", id="images.cancel"),
        Binding("delete", "remove_job", "Remove queued", show=False, id="images.remove"),
        # Del edits text in the form's fields; shift+del removes the highlighted queued job
        # from anywhere on the screen (named on the line over the queue, not in the footer).
        Binding(
            "shift+delete",
            "remove_job",
            "Remove queued",
            show=False,
            id="images.remove_any",
            priority=True,
        ),
        Binding("ctrl+r", "clear_start_image", "Clear start image", show=False, id="images.clear"),
    ]

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
        yield NavigationBar("images")
        with Horizontal(id="image-status"):
            yield Static("No image model · ctrl+o picks one", id="image-model", markup=False)
        yield Static("", id="image-problem", markup=False)
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
        self._offer_last_model()
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
        self._show_usage()
        from tui.widgets.remote_box import mount_remote_box

        manager = getattr(self.app, "manager", None)  # the chat's model, named on its box
        chat_spec = (lambda: manager.spec) if manager is not None else None
        await mount_remote_box(self, self.settings, after=gauge, chat_spec=chat_spec)

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

    # -- queue -----------------------------------------------------------------------------

    def action_generate(self) -> None:
        form = self.query_one(ImageForm)
        try:
            values = form.read()
        except FormProblem as problem:
            self.show_problem(str(problem), title="Check the form")
            self.query_one(f"#{problem.field}").focus()
            return
        self.clear_problem()
        if self.session.engine is None and self._loading is None:
            if self._remembered is None:
                self.show_problem("Pick an image model first (ctrl+o).", title="No image model")
                return
            self.load_model(self._remembered)  # last run's model: the jobs start once loaded
        seeds = resolve_seeds(values, self.last_seed)
        from dataclasses import replace

        live = self.settings.images.live_preview
        for seed in seeds:
            self.queue.add(replace(values.request, seed=seed, live_preview=live))
        self.last_seed = seeds[-1]
        self._refresh_queue()
        self._start_drain()

    def show_problem(self, text: str, *, title: str) -> None:
        """A problem where the eye is: the line under the model (outside the scrolling form,
        so it shows at 80x24 too) and a notification."""
        problem = self.query_one("#image-problem", Static)
        problem.update(text)
        problem.display = True
        self.notify(text, title=title, severity="error", timeout=10)

    def clear_problem(self) -> None:
        problem = self.query_one("#image-problem", Static)
        problem.update("")
        problem.display = False

    # -- gallery ---------------------------------------------------------------------------

    def action_open_gallery(self) -> None:
        self.app.action_go("gallery")  # type: ignore[attr-defined]

    def from_gallery(self, action: str, image: GalleryImage) -> None:
        """The gallery's "reuse" (parameters) or "img2img" (also the start image)."""
        from backends.image.png_metadata import request_from_parameters

        form = self.query_one(ImageForm)
        form.fill(request_from_parameters(image.parameters))
        if action == "img2img":
            form.set_start_image(image.path)
            self.notify(f"Image to image from {Path(image.path).name}; ctrl+r clears it.")
        else:
            self.notify("Parameters refilled from the gallery (seed fixed).")

    def action_clear_start_image(self) -> None:
        self.query_one(ImageForm).set_start_image(None)
