"""The app: composes the chat screen, global keys, the command palette and error reporting.

Everything it needs (settings, the conversation store, the model manager) is built by the
entry point (tui.cli) and passed in, so tests build the same app around tmp dirs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from backends.errors import BackendError
from backends.settings import Settings
from backends.speech.manager import SpeechManager
from backends.speech.tts_manager import TtsManager
from tui.hub.hub_access import DownloadCompleted, HubAccess
from tui.images.image_access import ImageAccess

if TYPE_CHECKING:
    from backends.base import ModelSpec
    from backends.models.manager import ModelManager
    from backends.store.conversations import ConversationStore
    from backends.store.gallery import GalleryStore
    from tui.widgets.device_gauge import DeviceGauge

log = logging.getLogger(__name__)

STYLES = Path(__file__).parent / "styles"


class LocalAIApp(App[None]):
    TITLE = "localai-tui"
    CSS_PATH = [
        STYLES / "app.tcss",
        STYLES / "chat.tcss",
        STYLES / "modals.tcss",
        STYLES / "images.tcss",
    ]
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("f1", "show_help", "Keys", id="app.help"),
        Binding("f3", "open_hub", "Hub", id="app.hub"),
        Binding("f4", "open_cache", "Disk", show=False, id="app.cache"),
        Binding("f5", "open_images", "Images", show=False, id="app.images"),
        # priority: TextArea (the image prompt) binds f6 to "select line"
        Binding("f6", "open_gallery", "Gallery", show=False, id="app.gallery", priority=True),
        # priority: TextArea (the chat prompt) binds f7 to "select all".
        Binding("f7", "open_speech", "Speech", show=False, id="app.speech", priority=True),
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
        gallery: GalleryStore | None = None,
        speech: SpeechManager | None = None,
        tts: TtsManager | None = None,
    ) -> None:
        super().__init__()
        from backends.models.manager import ModelManager
        from tui.alt_digit_keys import EscapePrefix, read_alt_digits_as_keys

        read_alt_digits_as_keys()
        self.escape_prefix = EscapePrefix()
        from backends.store.conversations import ConversationStore

        self.settings = settings or Settings()
        self.store = store or ConversationStore.open_default()
        self.manager = manager or ModelManager(self.settings)
        self._startup_model = startup_model
        self._gauge = gauge
        self.hub = HubAccess(self, self.settings)
        self.images = ImageAccess(self, self.settings, gallery)
        self.speech = speech or SpeechManager(self.settings)
        self.tts = tts or TtsManager(self.settings)
        from tui.server_access import ServerAccess

        self.servers = ServerAccess(self, self.settings)
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)

    def get_default_screen(self) -> Screen:
        from tui.chat.chat_screen import ChatScreen

        return ChatScreen(
            self.settings,
            self.store,
            self.manager,
            startup_model=self._startup_model,
            gauge=self._gauge,
        )

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            from tui.alt_digit_keys import as_command_key

            # Alt+2 (or Esc, then 2) switches models, never types "2".
            event = self.escape_prefix.apply(as_command_key(event))
        await super().on_event(event)

    def on_mount(self) -> None:
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.call_after_refresh(self._resume_downloads)
        self.call_after_refresh(self.servers.start)  # probes in its own threads

    def on_unmount(self) -> None:
        self.servers.close()
        self.hub.close()
        self.images.close()
        self.manager.unload()
        self.speech.unload()
        self.tts.unload()
        self.store.close()

    @work(thread=True, exit_on_error=False, group="hub")
    def _resume_downloads(self) -> None:
        """Downloads the last run left unfinished go on at once, not when the Hub is opened."""
        from tui.hub.hub_access import has_downloads_to_resume

        if has_downloads_to_resume():
            count = sum(job.state in ("queued", "running") for job in self.hub.queue.jobs())
            self.notify(f"Resuming {count} download(s) from last time (F3 shows them).")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_hub" and self.hub.is_showing_hub():
            return False  # already there: keeps "f3 Hub" out of the Hub's own footer
        return True

    def action_open_hub(self) -> None:
        """Browse and search the Hugging Face Hub; downloads show in its lower panel."""
        self.hub.show_hub()

    def action_open_cache(self) -> None:
        """Everything on disk, largest first; delete with a confirmation."""
        self.hub.show_cache(
            loaded_model=lambda: self.manager.spec, unload_model=self._unload_for_delete
        )

    def _unload_for_delete(self) -> bool:
        """Unload the chat's model before its files are deleted; False while it answers."""
        chat = self.screen_stack[0]
        if getattr(chat, "generating", False):
            return False
        self.manager.unload()
        model_unloaded = getattr(chat, "model_unloaded", None)
        if model_unloaded is not None:
            model_unloaded()
        return True

    def action_open_images(self) -> None:
        """Make pictures: prompt, settings, queue, inline preview."""
        self.images.show()

    def action_open_gallery(self) -> None:
        """Past images: search, reuse parameters, image to image, delete."""
        self.images.show_gallery()

    def action_open_speech(self) -> None:
        """Transcribe an audio file or a recording; export subtitles or send text to chat."""
        from tui.speech.speech_screen import SpeechScreen

        if isinstance(self.screen, SpeechScreen):
            return
        if "speech" not in self._installed_screens:
            # Installed, so leaving keeps it: the transcript, the path and the language are
            # there when the user comes back, and a running transcription goes on.
            self.install_screen(SpeechScreen(self.settings, self.speech, self.tts), name="speech")
        self.push_screen("speech", self._transcript_to_chat)

    def _transcript_to_chat(self, text: str | None) -> None:
        """The Speech screen's "send to chat": the words go into the prompt to edit."""
        from tui.chat.prompt_input import PromptInput

        if not text:
            return
        from tui.speech.push_to_talk import spaced

        prompt = self.screen_stack[0].query_one(PromptInput)
        prompt.insert(spaced(prompt, text))
        prompt.focus()

    def on_download_completed(self, message: DownloadCompleted) -> None:
        from backends.hub.client import default_cache_dir
        from backends.models.cache_inventory import cached_files

        files = cached_files(default_cache_dir(), message.repo_id)
        where = "F5 then ctrl+o" if "model_index.json" in files else "ctrl+o"
        self.notify(
            f"{message.repo_id} is downloaded. Pick it with {where}.", title="Download finished"
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Keys and help", "Every key binding (F1)", self.action_show_help)
        yield SystemCommand(
            "Browse the Hub", "Search, read cards, download models (F3)", self.action_open_hub
        )
        yield SystemCommand(
            "Images", "Generate pictures with a diffusion model (F5)", self.action_open_images
        )
        yield SystemCommand(
            "Image gallery",
            "Past images: reuse, image to image, delete (F6)",
            self.action_open_gallery,
        )
        yield SystemCommand(
            "Disk cache",
            "Models on disk by size; delete to free space (F4)",
            self.action_open_cache,
        )
        yield SystemCommand(
            "Speech to text",
            "Transcribe a file or a recording; export .srt/.vtt (F7)",
            self.action_open_speech,
        )
        palette = getattr(screen, "palette_commands", None)
        if palette is not None:
            yield from palette()

    def action_show_help(self) -> None:
        from tui.chat.conversations_screen import ConversationsScreen
        from tui.chat.message_view import MessageView
        from tui.chat.prompt_input import PromptInput
        from tui.hub.cache_screen import CacheScreen
        from tui.hub.downloads_panel import DownloadsPanel
        from tui.hub.hub_screen import HubScreen
        from tui.hub.model_card_screen import ModelCardScreen
        from tui.images.gallery_screen import GalleryScreen
        from tui.images.images_screen import ImagesScreen
        from tui.screens.help import HelpScreen
        from tui.screens.model_picker import ModelPickerScreen
        from tui.speech.speech_screen import SpeechScreen

        if isinstance(self.screen, HelpScreen):
            return
        chat = self.screen_stack[0]  # the chat screen, whichever screen F1 was pressed on
        sections: list = [("Global", self), ("Chat", chat)]  # type: ignore[type-arg]
        for widget_class, title in ((PromptInput, "Prompt"), (MessageView, "A message you sent")):
            found = chat.query(widget_class)
            sections.append((title, found.first() if found else widget_class))
        sections += [
            ("Model picker", ModelPickerScreen),
            ("Conversations", ConversationsScreen),
            ("Hub (F3)", HubScreen),
            ("Model card", ModelCardScreen),
            ("Downloads", DownloadsPanel),
            ("Disk cache (F4)", CacheScreen),
            ("Images (F5)", ImagesScreen),
            ("Gallery (F6)", GalleryScreen),
            ("Speech (F7)", SpeechScreen),
        ]
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
