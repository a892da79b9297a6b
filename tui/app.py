"""The app: composes the chat screen, global keys, the command palette and error reporting.

Everything it needs (settings, the conversation store, the model manager) is built by the
entry point (tui.cli) and passed in, so tests build the same app around tmp dirs.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual import constants, events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import Initialize, Reactive
from textual.screen import Screen
from textual.theme import BUILTIN_THEMES
from textual.worker import Worker, WorkerState

from backends.errors import BackendError
from backends.settings import Settings
from tui.hub.hub_access import DownloadCompleted, HubAccess
from tui.images.image_access import ImageAccess
from tui.key_gap import KeyGap
from tui.navigation import CHAT, PLACES, Navigator, navigation_bindings
from tui.stylesheets import STYLES, add_stylesheet
from tui.widgets.navigation_bar import key_display

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from backends.base import ModelSpec
    from backends.models.manager import ModelManager
    from backends.speech.manager import SpeechManager
    from backends.speech.tts_manager import TtsManager
    from backends.store.conversations import ConversationStore
    from backends.store.gallery import GalleryStore
    from backends.tasks.session import TaskSession
    from tui.images.gallery_screen import GalleryScreen
    from tui.speech.speech_screen import SpeechScreen
    from tui.widgets.device_gauge import DeviceGauge

log = logging.getLogger(__name__)


def _theme_at_start(app: LocalAIApp) -> str:
    return app._theme_at_start


class LocalAIApp(App[None]):
    TITLE = "localai-tui"
    CSS_PATH = [STYLES / "app.tcss", STYLES / "chat.tcss"]  # other screens': CSS_PATH
    ENABLE_COMMAND_PALETTE = True
    # The settings' theme is the app's from the start, so the stylesheets are first parsed
    # with its colours: set in on_mount, it made Textual parse every stylesheet again and
    # restyle every widget before the first frame (30-45 ms of CPU).
    theme: Reactive[str] = Reactive(Initialize(_theme_at_start))
    DEFAULT_MODE = CHAT  # every top-level screen is a mode (tui/navigation.py)
    BINDINGS = [
        # Not in the footers: the navigation bar on every screen shows "F1 Keys" (in a footer
        # too it took the 8 columns the last keys needed at 80).
        Binding("f1", "show_help", "Keys", show=False, id="app.help"),
        # One key per top-level screen (tui/navigation.py), shown on the navigation bar.
        *navigation_bindings(),
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
        tasks: TaskSession | None = None,
        tts: TtsManager | None = None,
        after_first_frame: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        known = self.settings.theme in BUILTIN_THEMES  # only built-in themes are named
        self._theme_at_start = self.settings.theme if known else constants.DEFAULT_THEME
        super().__init__()
        from backends.models.manager import ModelManager
        from tui.alt_digit_keys import EscapePrefix, read_alt_digits_as_keys

        read_alt_digits_as_keys()
        self.escape_prefix = EscapePrefix()
        self.key_gap = KeyGap()  # a streaming answer draws between keys (tui/key_gap.py)
        from backends.store.conversations import ConversationStore

        self.store = store or ConversationStore.open_default()
        self.manager = manager or ModelManager(self.settings)
        self._startup_model = startup_model
        self._gauge = gauge
        self.hub = HubAccess(self, self.settings)
        self.images = ImageAccess(self, self.settings, gallery)
        self._speech = speech
        self._tts = tts
        self._tasks = tasks
        self._after_first_frame = after_first_frame
        from tui.server_access import ServerAccess

        self.servers = ServerAccess(self, self.settings)
        self.navigation = Navigator(self)
        self._chat: Screen[None] | None = None
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)  # checked for collisions after start

    @property
    def speech(self) -> SpeechManager:
        """The speech model, shared by the Speech screen and push-to-talk; made on first use
        (its modules are not needed for the first frame)."""
        if self._speech is None:
            from backends.speech.manager import SpeechManager

            self._speech = SpeechManager(self.settings)
        return self._speech

    @property
    def tasks(self) -> TaskSession:
        """The task model of the Tasks screen; made on first use, like `speech` (its
        protocol's types cost ~10-20 ms to import, before the first frame otherwise)."""
        if self._tasks is None:
            from backends.tasks.session import TaskSession

            self._tasks = TaskSession()
        return self._tasks

    @property
    def tts(self) -> TtsManager:
        """The text-to-speech model, shared by the Speak panel and reading answers aloud;
        made on first use, like `speech`."""
        if self._tts is None:
            from backends.speech.tts_manager import TtsManager

            self._tts = TtsManager(self.settings)
        return self._tts

    def get_default_screen(self) -> Screen:
        from tui.chat.chat_screen import ChatScreen

        self._chat = ChatScreen(
            self.settings,
            self.store,
            self.manager,
            startup_model=self._startup_model,
            gauge=self._gauge,
        )
        # Built as the first mode's screen: Textual re-parses every stylesheet for a mode
        # screen whose CSS count differs from the app's (a new screen's is -1), although
        # nothing changed since the app parsed them: ~15-25 ms of the first frame's CPU.
        self._chat._css_update_count = self._css_update_count
        return self._chat

    def _load_screen_css(self, screen: Screen) -> None:
        for path in screen.css_path:  # added alone, not by re-parsing every stylesheet
            add_stylesheet(self, path)
        super()._load_screen_css(screen)

    @property
    def chat(self) -> Screen[None]:
        """The chat screen, whichever screen is open."""
        assert self._chat is not None, "the chat screen is built when the app starts"
        return self._chat

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            from tui.alt_digit_keys import as_command_key

            # Alt+2 (or Esc, then 2) switches models, never types "2".
            event = self.escape_prefix.apply(as_command_key(event))
            self.key_gap.pressed()
            if not event.is_printable:  # typed text: the prompt says when it is drawn
                self.call_after_refresh(self.key_gap.drawn)
        await super().on_event(event)

    def on_ready(self) -> None:
        """The first frame is on screen (Textual batches every paint before it): the chat
        now mounts what that frame did without (device gauge, server boxes, params panel)."""
        from tui.chat.chat_screen import FirstFrameShown

        if self._after_first_frame is not None:  # before the chat's startup model load
            self._after_first_frame()
        if self._chat is not None:
            self._chat.post_message(FirstFrameShown())
        self.call_after_refresh(self.freeze_startup_objects)

    def freeze_startup_objects(self) -> None:
        """Take what start-up built (modules, classes, styles, the first screen) out of the
        garbage collector's sight: they live as long as the app, yet each full collection
        walked all ~100k of them, a pause of 30-100 ms of CPU (seconds of wall time on a busy
        machine) in the middle of a reopen or a streamed answer (bench/long_conversation.py).
        No collection first: a full one cost ~60 ms here (far more in a test process), and
        start-up leaves little garbage (~8k objects with tui.cli's collector off until now,
        ~3k with it on: 23M instructions of the first frame), kept for good."""
        gc.freeze()
        gc.enable()  # off until now when started by tui.cli (its main says why)

    def on_mount(self) -> None:
        self.navigation.add_home()  # the chat screen is built by now (Compose came first)
        self.call_after_refresh(self._resume_downloads)
        self.call_after_refresh(self.servers.start)  # probes in its own threads
        if self.settings.keymap:
            self._check_keymap()

    @work(thread=True, exit_on_error=False, group="keymap")
    def _check_keymap(self) -> None:
        """A key the keymap gives to two live actions: both are named, and the remapped
        one keeps its default key (else it was left with none)."""
        from tui.keymap_check import usable_keymap

        keymap, problems = usable_keymap(self.settings.keymap)
        if problems:
            self.call_from_thread(self._keymap_collided, keymap, problems)

    def _keymap_collided(self, keymap: dict[str, str], problems: list[str]) -> None:
        self.set_keymap(keymap)
        for problem in problems:
            self.notify(problem, title="Keymap", severity="warning", timeout=30, markup=False)

    def on_unmount(self) -> None:
        self.servers.close()
        self.hub.close()
        self.images.close()
        self.manager.unload()
        if self._speech is not None:
            self._speech.unload()
        if self._tasks is not None:
            self._tasks.unload()
        if self._tts is not None:
            self._tts.unload()
        self.store.close()

    @work(thread=True, exit_on_error=False, group="hub")
    def _resume_downloads(self) -> None:
        """Downloads the last run left unfinished go on at once, not when the Hub is opened."""
        from tui.hub.hub_access import has_downloads_to_resume

        if has_downloads_to_resume():
            count = sum(job.state in ("queued", "running") for job in self.hub.queue.jobs())
            hub_key = key_display(self, "app.hub")
            self.notify(f"Resuming {count} download(s) from last time ({hub_key} shows them).")

    def action_go(self, name: str) -> None:
        """Open a top-level screen (tui/navigation.py); its key does nothing when it is open."""
        self.navigation.go(name)

    def open_speech(self, load: ModelSpec | None = None) -> None:
        """The Speech screen; `load`, a speech model, is loaded there (given to --model)."""
        self.navigation.go("speech")
        if load is not None:
            speech = self.navigation.screen("speech")
            if speech is not None:
                self.call_after_refresh(speech.load_model, load)  # type: ignore[attr-defined]

    def action_back(self) -> None:
        """Back to the screen the user came from (Esc where a screen has nothing to stop)."""
        self.navigation.back()

    def _unload_for_delete(self) -> bool:
        """Unload the chat's model before its files are deleted; False while it answers."""
        chat = self.chat
        if getattr(chat, "generating", False):
            return False
        self.manager.unload()
        model_unloaded = getattr(chat, "model_unloaded", None)
        if model_unloaded is not None:
            model_unloaded()
        return True

    def on_speech_screen_sent_to_chat(self, message: SpeechScreen.SentToChat) -> None:
        """The Speech screen's "send to chat": the words go into the prompt to edit."""
        from tui.chat.prompt_input import PromptInput

        self.navigation.go(CHAT)
        prompt = self.chat.query_one(PromptInput)
        from tui.speech.push_to_talk import spaced

        prompt.insert(spaced(prompt, message.text))
        prompt.focus()

    def on_gallery_screen_chosen(self, message: GalleryScreen.Chosen) -> None:
        """Reuse a gallery image's parameters (or start image to image) on the Images form."""
        self.navigation.go("images")
        self.images.screen.from_gallery(message.action, message.image)

    def on_download_completed(self, message: DownloadCompleted) -> None:
        from backends.hub.client import default_cache_dir
        from backends.models.cache_inventory import cached_files
        from backends.tasks.protocol import TASK_INPUTS, canonical_task
        from backends.tasks.task_detection import saved_tasks

        files = cached_files(default_cache_dir(), message.repo_id)
        where = (
            f"{key_display(self, 'app.images')} then ctrl+o"
            if "model_index.json" in files
            else "ctrl+o"
        )
        task = canonical_task(saved_tasks().get(message.repo_id))
        if task in TASK_INPUTS and "model_index.json" not in files:
            where = f"{key_display(self, 'app.tasks')} (Tasks, {task}) then ctrl+o"
        self.notify(
            f"{message.repo_id} is downloaded. Pick it with {where}.", title="Download finished"
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Keys and help", "Every key binding (F1)", self.action_show_help)
        for place in PLACES:
            key = key_display(self, place.binding_id)
            yield SystemCommand(
                f"Go to {place.title}",
                f"{place.help} ({key})" if key else place.help,
                partial(self.navigation.go, place.name),
            )
        palette = getattr(screen, "palette_commands", None)
        if palette is not None:
            yield from palette()

    def action_show_help(self) -> None:
        from tui.screens.help import HelpScreen
        from tui.screens.help_sections import help_sections

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_sections(self)))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification shows as plain text: messages quote paths, package extras
        (`localai-tui[pocket]`) and native log lines (`buf[/0]`) that Rich would read as markup
        (hiding the brackets, or failing to render and ending the app)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

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
