"""The Speech screen (F7): the Transcribe tab (speech to text) and the Speak tab (text to speech).

The screen holds what both tabs share: the title line (which model, for the tab shown), the
keys, picking and loading a model, and sending a transcript to the chat (`SentToChat`: the
app opens the chat). Each tab is its own widget: `TranscribePanel`, `SpeakPanel`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane
from textual.worker import Worker

from backends.base import ModelSpec
from backends.errors import BackendError
from backends.speech.protocol import AudioInput, Segment
from tui.speech.speak_panel import SpeakPanel
from tui.speech.speech_options import SpeechOptionsRow
from tui.speech.transcribe_panel import TranscribePanel
from tui.widgets.navigation_bar import NavigationBar

if TYPE_CHECKING:
    from backends.settings import Settings
    from backends.speech.manager import SpeechManager
    from backends.speech.tts_manager import TtsManager


class SpeechScreen(Screen[None]):
    """Dismisses with the transcript when it is sent to the chat, else None."""

    DEFAULT_CSS = """
    SpeechScreen { layout: vertical; }
    SpeechScreen #speech-title { height: 1; padding: 0 1; background: $panel; width: 1fr;
        text-style: bold; }
    SpeechScreen .speech-row { height: 1; margin: 1 1 0 1; }
    SpeechScreen .speech-row Label { width: auto; margin-right: 1; color: $text-muted; }
    SpeechScreen #speech-tabs { height: 1fr; }
    SpeechScreen #speech-tabs > ContentSwitcher { height: 1fr; }
    SpeechScreen TabPane { height: 1fr; padding: 0; layout: vertical; }
    """

    BINDINGS = [
        Binding("escape", "stop", "Stop/back", id="speech.stop"),
        Binding("ctrl+r", "record", "Record", id="speech.record"),
        Binding("ctrl+o", "pick_model", "Model", id="speech.pick_model"),
        Binding("ctrl+y", "copy", "Copy", id="speech.copy"),
        Binding("ctrl+s", "export", "Save", id="speech.export"),
        Binding("ctrl+g", "send_to_chat", "To chat", id="speech.to_chat"),
        Binding("ctrl+t", "toggle_translate", "Translate", show=False, id="speech.translate"),
        Binding("ctrl+f", "toggle_vad", "Skip silence", show=False, id="speech.vad"),
        Binding("alt+t", "show_tab('transcribe')", "Transcribe", show=False, id="speech.tab"),
        Binding("alt+s", "show_tab('speak')", "Speak", show=False, id="speech.speak_tab"),
    ]

    @dataclass
    class SentToChat(Message):
        """ctrl+g: the transcript goes into the chat prompt (the app opens the chat)."""

        text: str

    @dataclass
    class ModelLoaded(Message):
        error: BackendError | None = None

    def __init__(
        self,
        settings: Settings,
        speech: SpeechManager,
        tts: TtsManager | None = None,
        *,
        load: ModelSpec | None = None,
    ) -> None:
        """`tts` adds the Speak tab (text to speech); `load`, a speech model, is loaded as
        the screen opens (one given to --model)."""
        super().__init__()
        self._tts = tts
        self._load_at_start = load
        self._settings = settings
        self._speech = speech

    def compose(self) -> ComposeResult:
        yield NavigationBar("speech")
        yield Static("", id="speech-title", markup=False)
        with TabbedContent(id="speech-tabs"):
            with TabPane("Transcribe (alt+t)", id="transcribe"):
                yield TranscribePanel(self._settings, self._speech, id="transcribe-panel")
            if self._tts is not None:
                with TabPane("Speak (alt+s)", id="speak"):
                    yield SpeakPanel(self._tts, id="speak-panel")
        yield Footer(compact=True)

    @property
    def transcriber(self) -> TranscribePanel:
        return self.query_one(TranscribePanel)

    def on_mount(self) -> None:
        self._show_title()
        self._status("Name an audio file and press Enter, or press ctrl+r to record.")
        self.transcriber.focus_file()
        if self._load_at_start is not None:
            self.load_model(self._load_at_start)

    def load_model(self, spec: ModelSpec) -> None:
        """Load a speech model here (one given to --model, or picked)."""
        self._status(f"Loading {spec.name}…")
        self._load_worker(spec)

    def load_voice(self, spec: ModelSpec) -> None:
        """Open the Speak tab and load a text-to-speech model there."""
        if self._tts is None:
            return
        self.action_show_tab("speak")
        self.query_one(SpeakPanel).load_voice_model(spec)

    def on_screen_resume(self) -> None:
        # The app keeps this screen when the user leaves it: the transcript, the path and
        # the language are as they were; only the model may have changed meanwhile.
        self._show_title()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.report_worker_failure(event)  # type: ignore[attr-defined]

    # -- display ---------------------------------------------------------------------------

    def _show_title(self) -> None:
        title = self.query_one("#speech-title", Static)
        if self._tts is not None and self.query_one(TabbedContent).active == "speak":
            voice = self._tts.label() or "no voice loaded yet (the first play loads one)"
            title.update(f"Text to speech · {voice}")
            return
        label = self._speech.label()
        # fits 80 columns: the hint was cut before "ctrl+o picks"
        model = label or "no model yet (loaded on first use) · ctrl+o picks one"
        title.update(f"Speech to text · {model}")

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self._show_title()

    def _status(self, text: str) -> None:
        self.transcriber.status(text)

    def _problem(self, error: BackendError) -> None:
        self.transcriber.problem(error)

    @property
    def segments(self) -> list[Segment]:
        return self.transcriber.segments

    @property
    def busy(self) -> bool:
        return self.transcriber.busy

    def transcribe(self, audio: AudioInput, what: str) -> None:
        self.transcriber.transcribe(audio, what)

    def action_record(self) -> None:
        """ctrl+r starts recording from the microphone; ctrl+r again transcribes it."""
        self.transcriber.record()

    def palette_commands(self) -> list[SystemCommand]:
        """This screen's actions for the command palette (ctrl+p)."""
        from tui.speech.speech_commands import speech_commands

        return speech_commands(self)

    # -- actions ---------------------------------------------------------------------------

    def action_stop(self) -> None:
        """Esc: stop what the Transcribe tab runs (a recording, a transcription, the export
        line), else go back to the chat."""
        if not self.transcriber.stop():
            self.app.action_back()  # type: ignore[attr-defined]

    def action_copy(self) -> None:
        self.transcriber.copy()

    def action_export(self) -> None:
        self.transcriber.export()

    def action_send_to_chat(self) -> None:
        text = self.transcriber.text_for_chat()
        if not text:
            self.notify("There is no transcript to send yet.")
            return
        self.post_message(self.SentToChat(text))

    def action_show_tab(self, tab: str) -> None:
        tabs = self.query_one(TabbedContent)
        if tab == "speak" and self._tts is None:
            return
        tabs.active = tab
        first = "#speak-text" if tab == "speak" else "#speech-file"
        self.query_one(first).focus()

    def action_show_speak_tab(self) -> None:
        self.action_show_tab("speak")

    def action_toggle_translate(self) -> None:
        self.query_one(SpeechOptionsRow).toggle("translate")

    def action_toggle_vad(self) -> None:
        self.query_one(SpeechOptionsRow).toggle("vad")

    def action_pick_model(self) -> None:
        from tui.screens.model_picker import ModelPickerScreen

        if self._tts is not None and self.query_one(TabbedContent).active == "speak":
            self.query_one(SpeakPanel).pick_voice_model()
            return

        if self.busy:
            self.notify("A transcription is running: Esc stops it first.")
            return

        def chosen(spec: ModelSpec | None) -> None:
            if spec is not None:
                self.load_model(spec)

        current = self._speech.spec
        self.app.push_screen(ModelPickerScreen(self._settings, [], current, kind="speech"), chosen)

    @work(thread=True, exclusive=True, group="speech", exit_on_error=False)
    def _load_worker(self, spec: ModelSpec) -> None:
        try:
            self._speech.load(spec)
        except BackendError as exc:
            self.post_message(self.ModelLoaded(exc))
            return
        self.post_message(self.ModelLoaded())

    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        self._show_title()
        if message.error is not None:
            self._problem(message.error)
        else:
            self._status(f"Loaded {self._speech.label()}. Name a file and press Enter.")
