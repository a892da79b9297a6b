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
from textual.widgets import Checkbox, Footer, Input, Label, Static
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
from backends.speech.subtitles import FORMATS, plain_text, write_transcript
from tui.chat.clipboard import copy_with_notice
from tui.speech.push_to_talk import PushToTalk
from tui.speech.segment_list import SegmentList, timestamp
from tui.widgets.navigation_bar import NavigationBar
from tui.widgets.path_input import PathInput

if TYPE_CHECKING:
    import numpy as np

    from backends.settings import Settings
    from backends.speech.manager import SpeechManager

AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".webm", ".mp4")


class SpeechScreen(Screen[None]):
    """Dismisses with the transcript when it is sent to the chat, else None."""

    DEFAULT_CSS = """
    SpeechScreen { layout: vertical; }
    SpeechScreen #speech-title { height: 1; padding: 0 1; background: $panel; width: 1fr;
        text-style: bold; }
    SpeechScreen .speech-row { height: 1; margin: 1 1 0 1; }
    SpeechScreen .speech-row Label { width: auto; margin-right: 1; color: $text-muted; }
    SpeechScreen #speech-file { width: 1fr; }
    SpeechScreen #speech-language { width: 8; margin-right: 2; }
    SpeechScreen Checkbox { margin-right: 2; }
    SpeechScreen #speech-segments { margin: 1 1 0 1; }
    SpeechScreen #speech-status { height: auto; padding: 0 1; color: $text-muted; }
    SpeechScreen #speech-export-row { display: none; }
    SpeechScreen #speech-export-row.-open { display: block; }
    SpeechScreen #speech-export { width: 1fr; }
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

    def __init__(self, settings: Settings, speech: SpeechManager) -> None:
        super().__init__()
        self._settings = settings
        self._speech = speech
        self._segments: list[Segment] = []
        self._source: Path | None = None  # the file transcribed, for the export name
        self._cancel: threading.Event | None = None
        self._run = 0
        self._duration = 0.0

    def compose(self) -> ComposeResult:
        speech = self._settings.speech
        yield NavigationBar("speech")
        yield Static("", id="speech-title", markup=False)
        with Horizontal(classes="speech-row"):
            yield Label("Audio file")
            yield PathInput(
                placeholder="path to wav, mp3, flac, ogg, m4a…  (Tab completes, Enter "
                "transcribes · ctrl+r records)",
                suffixes=AUDIO_SUFFIXES,
                id="speech-file",
            )
        with Horizontal(classes="speech-row"):
            yield Label("Language")
            yield Input(speech.language or "auto", id="speech-language", compact=True)
            yield Checkbox(
                "Translate to English", speech.translate, id="speech-translate", compact=True
            )
            yield Checkbox("Skip silence (VAD)", speech.vad_filter, id="speech-vad", compact=True)
        yield SegmentList(id="speech-segments")
        yield Static("", id="speech-status", markup=False)
        with Horizontal(classes="speech-row", id="speech-export-row"):
            yield Label("Save as")
            yield PathInput(placeholder=".txt, .srt or .vtt", suffixes=FORMATS, id="speech-export")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show_title()
        self._status("Name an audio file and press Enter, or press ctrl+r to record.")
        self.query_one("#speech-file", PathInput).focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.report_worker_failure(event)  # type: ignore[attr-defined]

    # -- display ---------------------------------------------------------------------------

    def _show_title(self) -> None:
        label = self._speech.label()
        model = label or "no model loaded yet (the first transcription loads one · ctrl+o picks)"
        self.query_one("#speech-title", Static).update(f"Speech to text · {model}")

    def _status(self, text: str) -> None:
        self.query_one("#speech-status", Static).update(text)

    @property
    def segments(self) -> list[Segment]:
        return list(self._segments)

    @property
    def busy(self) -> bool:
        return self._cancel is not None

    def _options(self) -> TranscribeOptions:
        base = self._settings.speech.transcribe_options()
        language = self.query_one("#speech-language", Input).value.strip().lower()
        return TranscribeOptions(
            language=None if language in ("", "auto") else language,
            task="translate"
            if self.query_one("#speech-translate", Checkbox).value
            else "transcribe",
            vad_filter=self.query_one("#speech-vad", Checkbox).value,
            beam_size=base.beam_size,
        )

    # -- transcribing ----------------------------------------------------------------------

    @on(Input.Submitted, "#speech-file")
    def _transcribe_file(self) -> None:
        path = self.query_one("#speech-file", PathInput).path
        if path is None:
            self.notify("Type the path of an audio file first (Tab completes it).")
            return
        if not path.is_file():
            self.notify(
                f"There is no file at {path}. Check the path (Tab completes it).",
                title="Cannot read the audio",
                severity="error",
            )
            return
        self._source = path
        self.transcribe(str(path), f"{path.name}")

    def transcribe(self, audio: AudioInput, what: str) -> None:
        if self.busy:
            self.notify("A transcription is running: Esc stops it.")
            return
        self._segments.clear()
        self.query_one(SegmentList).clear()
        self._duration = 0.0
        self._run += 1
        self._cancel = cancel = threading.Event()
        self._status(f"Transcribing {what}… (Esc stops)")
        self._transcribe_worker(audio, self._options(), cancel, self._run)

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
            self._duration = event.duration_s
            self._status(
                f"Transcribing {timestamp(event.duration_s)} of audio, language {event.language}"
                "… (Esc stops)"
            )
        elif isinstance(event, Segment):
            self._add_segment(event)
        elif isinstance(event, TranscriptionFinished):
            self._finished(event)
        if message.error is not None:
            self._cancel = None
            self._show_title()
            self._status(f"{message.error.title}: {message.error.message}")
            self.notify(
                message.error.message, title=message.error.title, severity="error", timeout=10
            )

    def _add_segment(self, segment: Segment) -> None:
        self._segments.append(segment)
        self.query_one(SegmentList).add(segment)
        done = f"{timestamp(segment.end)} of {timestamp(self._duration)}"
        count = len(self._segments)
        self._status(f"{count} segment{'s' if count != 1 else ''} · {done} · Esc stops")

    def _finished(self, event: TranscriptionFinished) -> None:
        self._cancel = None
        rtf = event.real_time_factor
        speed = f" (real-time factor {rtf:.2f})" if rtf is not None else ""
        what = "Stopped" if event.reason == "cancelled" else "Done"
        self._status(
            f"{what}: {event.segments} segment{'s' if event.segments != 1 else ''} from "
            f"{timestamp(event.audio_s)} of audio in "
            f"{event.elapsed_s:.1f} s{speed}. ctrl+y copies · ctrl+s exports · ctrl+g sends "
            "to chat."
        )

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
        entries = [
            ("Record from the microphone", "Press again to transcribe (ctrl+r)", "record"),
            ("Copy the transcript", "Via OSC 52 (ctrl+y)", "copy"),
            ("Export the transcript", ".txt, .srt or .vtt by the name (ctrl+s)", "export"),
            ("Send the transcript to the chat", "Into the prompt to edit (ctrl+g)", "send_to_chat"),
            ("Pick a speech model", "faster-whisper models found here (ctrl+o)", "pick_model"),
            (
                "Toggle translate to English",
                "Whisper's translate task (ctrl+t)",
                "toggle_translate",
            ),
            ("Toggle skip silence (VAD)", "Silero VAD before decoding (ctrl+f)", "toggle_vad"),
        ]
        return [
            SystemCommand(title, help_text, getattr(self, f"action_{action}"))
            for title, help_text, action in entries
        ]

    # -- actions ---------------------------------------------------------------------------

    def action_stop(self) -> None:
        """Esc: cancel a recording, else stop the transcription, else close the export
        line, else go back to the chat."""
        recording = self.query(PushToTalk)
        export_row = self.query_one("#speech-export-row")
        if recording:
            recording.first().cancel()
            self._status("Recording cancelled.")
        elif self._cancel is not None:
            self._cancel.set()
            self._status("Stopping after this segment…")
        elif export_row.has_class("-open"):
            export_row.remove_class("-open")
            self.query_one("#speech-file", PathInput).focus()
        else:
            self.app.action_back()  # type: ignore[attr-defined]

    def action_copy(self) -> None:
        text = plain_text(self._segments)
        if not text:
            self.notify("There is no transcript to copy yet.")
            return
        copy_with_notice(self.app, text, f"the transcript ({len(self._segments)} segments)")

    def action_export(self) -> None:
        """ctrl+s opens the "Save as" line with a suggested name; Enter writes the file."""
        if not self._segments:
            self.notify("There is no transcript to export yet.")
            return
        row = self.query_one("#speech-export-row")
        field = self.query_one("#speech-export", PathInput)
        if not field.value:
            stem = self._source.with_suffix("") if self._source else Path.cwd() / "recording"
            field.value = f"{stem}.srt"
        row.add_class("-open")
        field.focus()
        field.cursor_position = len(field.value)

    @on(Input.Submitted, "#speech-export")
    def _save(self) -> None:
        path = self.query_one("#speech-export", PathInput).path
        if path is None:
            self.notify("Type a file name ending in .txt, .srt or .vtt.")
            return
        try:
            written = write_transcript(self._segments, path)
        except BackendError as exc:
            self.notify(exc.message, title=exc.title, severity="error", timeout=10)
            return
        self.query_one("#speech-export-row").remove_class("-open")
        self.query_one("#speech-file", PathInput).focus()
        self._status(f"Saved the transcript ({len(self._segments)} segments) to {written}")
        self.notify(f"Saved to {written}", title="Transcript exported")

    def action_send_to_chat(self) -> None:
        text = plain_text(self._segments).replace("\n", " ")
        if not text:
            self.notify("There is no transcript to send yet.")
            return
        if self._cancel is not None:
            self._cancel.set()
        self.post_message(self.SentToChat(text))

    def action_toggle_translate(self) -> None:
        self.query_one("#speech-translate", Checkbox).toggle()

    def action_toggle_vad(self) -> None:
        self.query_one("#speech-vad", Checkbox).toggle()

    def action_pick_model(self) -> None:
        from tui.screens.model_picker import ModelPickerScreen

        if self.busy:
            self.notify("A transcription is running: Esc stops it first.")
            return

        def chosen(spec: ModelSpec | None) -> None:
            if spec is not None:
                self._status(f"Loading {spec.name}…")
                self._load_worker(spec)

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
            self._status(f"{message.error.title}: {message.error.message}")
            self.notify(message.error.message, title=message.error.title, severity="error")
        else:
            self._status(f"Loaded {self._speech.label()}. Name a file and press Enter.")
