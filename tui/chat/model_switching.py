"""Switching models from the chat screen: picker, recent-model keys, load progress and results.

Loads run in the `ModelLoader` worker via the ModelManager; a failed load leaves the
previous model in place. `ModelSwitching` is a plain helper the screen delegates to (the
screen keeps the `@on` handlers, which Textual collects per DOM node).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.errors import LoadCancelled
from tui.chat.model_loader import ModelLoader
from tui.load_line import load_line

if TYPE_CHECKING:
    from backends.base import ModelSpec
    from tui.chat.chat_host import ChatHost


class ModelSwitching:
    def __init__(self, screen: ChatHost) -> None:
        self.screen = screen
        self.loader = ModelLoader(screen.manager)

    def load(self, spec: ModelSpec) -> None:
        """Load `spec` in a worker; the previous model stays until this one is ready."""
        screen = self.screen
        from backends.models.model_kind import model_kind

        if model_kind(spec) != "chat":
            # Picked here or given to --model: an image, speech, voice or task model opens
            # its own screen; a task no engine runs is refused with a reason.
            from tui.model_routes import open_model, routed_note

            if open_model(screen.app, spec):
                screen.app.notify(routed_note(spec))
            return
        if screen.generating:
            screen.notify("Stop the answer first (Esc), then switch models.", severity="warning")
            return
        screen.status.set_state(f"{load_line(spec.name)} (Esc cancels)")
        screen.status.set_progress(None)
        self.loader.load(spec)

    def load_startup_model(self, startup: ModelSpec | None) -> None:
        if startup is not None:
            self.load(startup)
        else:
            self.loader.load_startup_model(self.screen.settings)

    def progressed(self, message: ModelLoader.Progressed) -> None:
        if message.spec is self.loader.loading:
            self.screen.status.set_progress(message.progress.fraction)
            line = load_line(message.spec.name, message.progress.message)
            self.screen.status.set_state(f"{line} (Esc cancels)")

    def loaded(self) -> None:
        self.show_state()
        label, engine = self.screen.manager.label(), self.screen.manager.engine
        if label and engine is not None and not engine.capabilities.chat_template:
            # A base model: the 4 s notice was gone before the odd answers began.
            label += " · base model: no chat template, plain transcript"
        self.screen.status.set_model(label)
        self.show_usage(sample=True)

    def failed(self, message: ModelLoader.Failed, *, prompt_kept: bool) -> None:
        """`prompt_kept`: a message waiting for this load went back to the prompt."""
        screen = self.screen
        self.show_state()
        kept = screen.manager.spec
        still = f" Still using {kept.name}." if kept else ""
        if prompt_kept:
            still += " Your message was not sent: it is still in the prompt."
        if isinstance(message.error, LoadCancelled):
            screen.notify(f"Loading {message.spec.name} was cancelled.{still}")
            return
        screen.notify(
            f"{message.error.message}{still}",
            title=f"{message.error.title}: {message.spec.name}",
            severity="error",
            timeout=12,
            markup=False,
        )

    def show_state(self) -> None:
        if self.loader.loading is not None:
            return  # a newer load is still running and owns the status line
        status = self.screen.status
        status.hide_progress()
        status.set_state("ready" if self.screen.manager.spec else "ctrl+o to pick a model")

    def show_usage(self, *, sample: bool = False) -> None:
        """Tell the device gauge what the loaded model holds."""
        gauge, manager = self.screen.gauge, self.screen.manager
        if gauge is not None:
            gauge.set_model_usage(manager.label(), manager.footprint())
            if sample:
                gauge.sample_now()
        if sample:
            from tui.widgets.remote_box import RemoteBoxGauge

            for box in self.screen.query(RemoteBoxGauge):  # a server's model: what it holds
                box.read_now()

    def pick(self) -> None:
        from tui.screens.model_picker import ModelPickerScreen

        screen = self.screen

        def chosen(spec: ModelSpec | None) -> None:
            if spec is not None:
                self.load(spec)

        screen.app.push_screen(
            ModelPickerScreen(screen.settings, screen.manager.recents(), screen.manager.spec),
            chosen,
        )

    def switch_recent(self, number: int) -> None:
        screen = self.screen
        recents = screen.manager.recents()
        if number > len(recents):
            screen.notify(f"No recent model {number} yet. Pick models with ctrl+o.")
            return
        spec = recents[number - 1]
        if screen.manager.spec is not None and spec.key == screen.manager.spec.key:
            screen.notify(f"{spec.name} is already loaded.")
            return
        self.load(spec)
