"""The app: composes the chat screen, global keys, the command palette and error reporting.

Everything it needs (settings, the conversation store, the model manager) is built by the
entry point (tui.cli) and passed in, so tests build the same app around tmp dirs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from backends.errors import BackendError
from backends.settings import Settings

if TYPE_CHECKING:
    from backends.base import ModelSpec
    from backends.model_manager import ModelManager
    from backends.store import ConversationStore
    from tui.widgets.device_gauge import DeviceGauge

log = logging.getLogger(__name__)

STYLES = Path(__file__).parent / "styles"


class LocalAIApp(App[None]):
    TITLE = "localai-tui"
    CSS_PATH = [STYLES / "app.tcss", STYLES / "chat.tcss", STYLES / "modals.tcss"]
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("f1", "show_help", "Keys", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: ConversationStore | None = None,
        manager: ModelManager | None = None,
        startup_model: ModelSpec | None = None,
        gauge: DeviceGauge | None = None,
    ) -> None:
        super().__init__()
        from backends.model_manager import ModelManager
        from backends.store import ConversationStore

        self.settings = settings or Settings()
        self.store = store or ConversationStore.open_default()
        self.manager = manager or ModelManager(self.settings)
        self._startup_model = startup_model
        self._gauge = gauge
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)

    def get_default_screen(self) -> Screen:
        from tui.screens.chat import ChatScreen

        return ChatScreen(
            self.settings,
            self.store,
            self.manager,
            startup_model=self._startup_model,
            gauge=self._gauge,
        )

    def on_mount(self) -> None:
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme

    def on_unmount(self) -> None:
        self.manager.unload()
        self.store.close()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Keys and help", "Every key binding (F1)", self.action_show_help)
        palette = getattr(screen, "palette_commands", None)
        if palette is not None:
            yield from palette()

    def action_show_help(self) -> None:
        from tui.screens.help import HelpScreen
        from tui.screens.model_picker import ModelPickerScreen
        from tui.widgets.message_view import MessageView
        from tui.widgets.prompt_input import PromptInput

        if isinstance(self.screen, HelpScreen):
            return
        chat = self.screen
        sections: list = [("Global", self), ("Chat", chat)]  # type: ignore[type-arg]
        for widget_class, title in ((PromptInput, "Prompt"), (MessageView, "A message you sent")):
            found = chat.query(widget_class)
            sections.append((title, found.first() if found else widget_class))
        sections.append(("Model picker", ModelPickerScreen))
        self.push_screen(HelpScreen(sections))

    def report_worker_failure(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker becomes a message; the app never dies of it."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, BackendError):
            self.notify(error.message, title=error.title, severity="error", timeout=10)
        else:
            log.error("worker %s failed", event.worker.name, exc_info=error)
            self.notify(
                f"{type(error).__name__}: {error}. The app keeps running; details are in the "
                "log file.",
                title="Unexpected error",
                severity="error",
                timeout=10,
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker_failure(event)
