"""The Speech screen (F7): transcribe a file or a recording, watch segments arrive, export.

Segments appear as faster-whisper decodes them (a thread worker posts one message per
segment: a few per second at most, so no coalescing is needed). Esc stops a transcription
between segments, and keeps what was decoded. The transcript can be copied, written as
.txt / .srt / .vtt, or sent to the chat prompt (`SentToChat`: the app opens the chat).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static, TabbedContent, TabPane
from textual.worker import Worker

from backends.base import LoadProgress, ModelSpec
from backends.errors import BackendError
from backends.speech.microphone import FILE_HINT
from backends.speech.protocol import (
    AudioInput,
    Segment,
    SpeechEvent,
    TranscribeOptions,
    TranscriptionFinished,
    TranscriptionStarted,
)
from backends.speech.subtitles import plain_text
from tui.chat.clipboard import copy_with_notice
from tui.human_units import plural
from tui.speech.push_to_talk import PushToTalk
from tui.speech.segment_list import SegmentList
from tui.speech.speak_panel import SpeakPanel
from tui.speech.speech_options import SpeechOptionsRow
from tui.speech.transcript_export import TranscriptExport
from tui.speech.transcript_status import finished_line, progress_line, started_line
from tui.widgets.navigation_bar import NavigationBar
from tui.widgets.path_input import PathInput

if TYPE_CHECKING:
    import numpy as np

    from backends.settings import Settings
    from backends.speech.manager import SpeechManager
    from backends.speech.tts_manager import TtsManager

AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".webm", ".mp4")


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
    SpeechScreen #speech-file { width: 1fr; }
    SpeechScreen #speech-segments { margin: 1 1 0 1; }
    SpeechScreen #speech-status { height: auto; padding: 0 1; color: $text-muted; }
    SpeechScreen PushToTalk { margin: 1 1 0 1; }
    """

    BINDINGS = [
        Binding("escape", "stop", "Stop / back", id="speech.stop"),
        Binding("ctrl+r", "record", "Record", id="speech.record"),
        Binding("ctrl+o", "pick_model", "Model", id="speech.pick_model"),
        Binding("ctrl+y", "copy", "Copy", id="speech.copy"),
        Binding("ctrl+s", "export", "Export", id="speech.export"),
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
    class Progressed(Message):
        """One event of the running transcription (or its failure)."""

        run: int
        event: SpeechEvent | LoadProgress | None = None
        error: BackendError | None = None

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
        self._segments: list[Segment] = []
        self._source: Path | None = None  # the file transcribed, for the export name
        self._cancel: threading.Event | None = None
        self._run = 0
        self._started: TranscriptionStarted | None = None  # the running or last run's start
        self._given_language: str | None = None  # the code the user typed, None: detected

    def compose(self) -> ComposeResult:
        speech = self._settings.speech
        yield NavigationBar("speech")
        yield Static("", id="speech-title", markup=False)
        with TabbedContent(id="speech-tabs"):
            with TabPane("Transcribe (alt+t)", id="transcribe"):
                with Horizontal(classes="speech-row"):
                    yield Label("Audio file")
                    yield PathInput(
                        placeholder="path to wav, mp3, flac, ogg, m4a…  (Tab completes, Enter "
                        "transcribes · ctrl+r records)",
                        suffixes=AUDIO_SUFFIXES,
                        id="speech-file",
                    )
                yield SpeechOptionsRow(
                    speech.language, speech.translate, speech.vad_filter, classes="speech-row"
                )
                yield SegmentList(id="speech-segments")
                yield Static("", id="speech-status", markup=False)
                yield TranscriptExport(lambda: self._segments, id="speech-export-row")
            if self._tts is not None:
                with TabPane("Speak (alt+s)", id="speak"):
                    yield SpeakPanel(self._tts, id="speak-panel")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show_title()
        self._status("Name an audio file and press Enter, or press ctrl+r to record.")
        self.query_one("#speech-file", PathInput).focus()
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
        model = label or "no model loaded yet (the first transcription loads one · ctrl+o picks)"
        title.update(f"Speech to text · {model}")

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self._show_title()

    def _status(self, text: str) -> None:
        self.query_one("#speech-status", Static).update(text)

    def _problem(self, error: BackendError) -> None:
        """An error in the status line (replacing whatever it said) and as a notification."""
        self._status(f"{error.title}: {error.message}")
        self.notify(error.message, title=error.title, severity="error", timeout=10)

    @property
    def segments(self) -> list[Segment]:
        return list(self._segments)

    @property
    def busy(self) -> bool:
        return self._cancel is not None

    def _options(self) -> TranscribeOptions:
        """UnsupportedOption for a language Whisper does not know."""
        beam_size = self._settings.speech.transcribe_options().beam_size
        return self.query_one(SpeechOptionsRow).options(beam_size)

    # -- transcribing ----------------------------------------------------------------------

    @on(Input.Submitted, "#speech-file")
    def _transcribe_file(self) -> None:
        path = self.query_one("#speech-file", PathInput).path
        if path is None:
            self.notify("Type the path of an audio file first (Tab completes it).")
            return
        if path.is_dir():
            problem = f"{path} is a folder. Type the name of an audio file in it (Tab completes)."
        elif not path.is_file():
            problem = f"There is no file at {path}. Check the path (Tab completes it)."
        else:
            self._source = path
            self.transcribe(str(path), f"{path.name}")
            return
        self._problem(BackendError(problem, title="Cannot read the audio"))

    def transcribe(self, audio: AudioInput, what: str) -> None:
        if self.busy:
            self.notify("A transcription is running: Esc stops it.")
            return
        try:
            options = self._options()
        except BackendError as exc:
            self._problem(exc)
            self.query_one("#speech-language", Input).focus()
            return
        self._segments.clear()
        self.query_one(SegmentList).clear()
        self._started, self._given_language = None, options.language
        self._run += 1
        self._cancel = cancel = threading.Event()
        self._status(f"Transcribing {what}… (Esc stops)")
        self._transcribe_worker(audio, options, cancel, self._run)

    @work(thread=True, exclusive=True, group="speech", exit_on_error=False)
    def _transcribe_worker(
        self, audio: AudioInput, options: TranscribeOptions, cancel: threading.Event, run: int
    ) -> None:
        def progress(update: LoadProgress) -> None:
            self.post_message(self.Progressed(run, update))

        try:
            for event in self._speech.transcribe(audio, options, cancel=cancel, progress=progress):
                self.post_message(self.Progressed(run, event))
        except BackendError as exc:
            self.post_message(self.Progressed(run, error=exc))

    @on(Progressed)
    def _show_progress(self, message: Progressed) -> None:
        if message.run != self._run:
            return  # a previous run's late message
        event = message.event
        if isinstance(event, LoadProgress):
            self._status(f"{event.message} (Esc stops)")
        elif isinstance(event, TranscriptionStarted):
            self._show_title()
            self._started = event
            self._status(started_line(event, self._given_language))
        elif isinstance(event, Segment):
            self._segments.append(event)
            self.query_one(SegmentList).add(event)
            self._status(
                progress_line(len(self._segments), event.end, self._started, self._given_language)
            )
        elif isinstance(event, TranscriptionFinished):
            self._cancel = None
            self._status(finished_line(event, self._started, self._given_language))
        if message.error is not None:
            self._cancel = None
            self._show_title()
            self._problem(message.error)

    # -- recording -------------------------------------------------------------------------

    def action_record(self) -> None:
        """ctrl+r starts recording from the microphone; ctrl+r again transcribes it."""
        found = self.query(PushToTalk)
        if found:
            found.first().finish()
            return
        if self.busy:
            self.notify("A transcription is running: Esc stops it.")
            return
        recorder = PushToTalk(
            self._speech.recorder(), self._recorded, keys="ctrl+r stops · Esc cancels"
        )
        try:
            recorder.start()
        except BackendError as exc:
            # The message ends by pointing at this screen; here the file path is right above.
            text = exc.message.replace(FILE_HINT, "Type the path of a recorded file above.")
            self.notify(text, title=exc.title, severity="warning", timeout=12)
            self._status(text)
            self.query_one("#speech-file", PathInput).focus()
            return
        self.mount(recorder, before=self.query_one(SegmentList))

    def _recorded(self, audio: np.ndarray) -> None:
        for widget in self.query(PushToTalk):
            widget.remove()
        self._source = None
        self.transcribe(audio, "the recording")

    def palette_commands(self) -> list[SystemCommand]:
        """This screen's actions for the command palette (ctrl+p)."""
        from tui.speech.speech_commands import speech_commands

        return speech_commands(self)

    # -- actions ---------------------------------------------------------------------------

    def action_stop(self) -> None:
        """Esc: cancel a recording, else stop the transcription, else close the export
        line, else go back to the chat."""
        recording = self.query(PushToTalk)
        export = self.query_one(TranscriptExport)
        if recording:
            recording.first().cancel()
            self._status("Recording cancelled.")
        elif self._cancel is not None:
            self._cancel.set()
            self._status("Stopping after this segment…")
        elif export.is_open:
            export.close()
            self.query_one("#speech-file", PathInput).focus()
        else:
            self.app.action_back()  # type: ignore[attr-defined]

    def action_copy(self) -> None:
        text = plain_text(self._segments)
        if not text:
            self.notify("There is no transcript to copy yet.")
            return
        copy_with_notice(
            self.app, text, f"the transcript ({plural(len(self._segments), 'segment')})"
        )

    def action_export(self) -> None:
        """ctrl+s opens the "Save as" line with a suggested name; Enter writes the file."""
        if not self._segments:
            self.notify("There is no transcript to export yet.")
            return
        stem = self._source.with_suffix("") if self._source else Path.cwd() / "recording"
        self.query_one(TranscriptExport).open(Path(f"{stem}.srt"))

    @on(TranscriptExport.Saved)
    def _saved(self, message: TranscriptExport.Saved) -> None:
        self.query_one("#speech-file", PathInput).focus()
        self._status(
            f"Saved the transcript ({plural(message.segments, 'segment')}) to {message.path}"
        )
        self.notify(f"Saved to {message.path}", title="Transcript exported")

    def action_send_to_chat(self) -> None:
        text = plain_text(self._segments).replace("\n", " ")
        if not text:
            self.notify("There is no transcript to send yet.")
            return
        if self._cancel is not None:
            self._cancel.set()
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
