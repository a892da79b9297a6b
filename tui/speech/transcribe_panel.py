"""The Transcribe tab of the Speech screen: an audio file or a recording in, segments out.

Segments appear as faster-whisper (or a server's stream) decodes them (a thread worker posts
one message per segment: a few per second at most, so no coalescing is needed); a server that
streams text deltas shows them as a growing line until its segment comes. Esc stops a transcription
between segments, and keeps what was decoded. The transcript can be copied or written as
.txt / .srt / .vtt; the screen sends it to the chat. The screen's keys call in here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from backends.base import LoadProgress
from backends.errors import BackendError
from backends.speech.microphone import FILE_HINT
from backends.speech.protocol import (
    AudioInput,
    PartialText,
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
from tui.speech.speech_options import SpeechOptionsRow
from tui.speech.transcript_export import TranscriptExport
from tui.speech.transcript_status import finished_line, progress_line, started_line
from tui.widgets.path_input import PathInput

if TYPE_CHECKING:
    import numpy as np

    from backends.settings import Settings
    from backends.speech.manager import SpeechManager

AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".webm", ".mp4")


class TranscribePanel(Vertical):
    DEFAULT_CSS = """
    TranscribePanel { height: 1fr; }
    TranscribePanel #speech-file { width: 1fr; }
    TranscribePanel #speech-segments { margin: 1 1 0 1; }
    TranscribePanel #speech-status { height: auto; padding: 0 1; color: $text-muted; }
    TranscribePanel PushToTalk { margin: 1 1 0 1; }
    """

    @dataclass
    class Progressed(Message):
        """One event of the running transcription (or its failure)."""

        run: int
        event: SpeechEvent | LoadProgress | None = None
        error: BackendError | None = None

    def __init__(self, settings: Settings, speech: SpeechManager, *, id: str | None = None) -> None:
        super().__init__(id=id)
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
        with Horizontal(classes="speech-row"):
            yield Label("Audio file")
            yield PathInput(
                placeholder="wav, mp3, flac, ogg, m4a…  (Tab completes, Enter transcribes)",
                suffixes=AUDIO_SUFFIXES,
                id="speech-file",
            )
        yield SpeechOptionsRow(
            speech.language, speech.translate, speech.vad_filter, classes="speech-row"
        )
        yield SegmentList(id="speech-segments")
        yield Static("", id="speech-status", markup=False)
        yield TranscriptExport(lambda: self._segments, id="speech-export-row")

    def status(self, text: str) -> None:
        self.query_one("#speech-status", Static).update(text)

    def problem(self, error: BackendError) -> None:
        """An error in the status line (replacing whatever it said) and as a notification."""
        self.status(f"{error.title}: {error.message}")
        self.notify(error.message, title=error.title, severity="error", timeout=10, markup=False)

    @property
    def segments(self) -> list[Segment]:
        return list(self._segments)

    @property
    def busy(self) -> bool:
        return self._cancel is not None

    def focus_file(self) -> None:
        self.query_one("#speech-file", PathInput).focus()

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
        self.problem(BackendError(problem, title="Cannot read the audio"))

    def transcribe(self, audio: AudioInput, what: str) -> None:
        if self.busy:
            self.notify("A transcription is running: Esc stops it.")
            return
        try:
            options = self._options()
        except BackendError as exc:
            self.problem(exc)
            self.query_one("#speech-language", Input).focus()
            return
        self._segments.clear()
        self.query_one(SegmentList).clear()
        self._started, self._given_language = None, options.language
        self._run += 1
        self._cancel = cancel = threading.Event()
        self.status(f"Transcribing {what}… (Esc stops)")
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
            self.status(f"{event.message} (Esc stops)")
        elif isinstance(event, TranscriptionStarted):
            self.screen._show_title()  # type: ignore[attr-defined]  # the model may have loaded
            self._started = event
            self.status(started_line(event, self._given_language))
        elif isinstance(event, Segment):
            self._segments.append(event)
            self.query_one(SegmentList).add(event)
            self.status(
                progress_line(len(self._segments), event.end, self._started, self._given_language)
            )
        elif isinstance(event, PartialText):
            self.query_one(SegmentList).show_partial(event.text)
        elif isinstance(event, TranscriptionFinished):
            self._cancel = None
            self.status(finished_line(event, self._started, self._given_language))
        if message.error is not None:
            self._cancel = None
            self.screen._show_title()  # type: ignore[attr-defined]
            self.problem(message.error)

    # -- recording -------------------------------------------------------------------------

    def record(self) -> None:
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
            self.status(text)
            self.focus_file()
            return
        self.mount(recorder, before=self.query_one(SegmentList))

    def _recorded(self, audio: np.ndarray) -> None:
        for widget in self.query(PushToTalk):
            widget.remove()
        self._source = None
        self.transcribe(audio, "the recording")

    # -- the transcript --------------------------------------------------------------------

    def stop(self) -> bool:
        """Esc: cancel a recording, else stop the transcription, else close the export
        line; False when there was nothing to stop."""
        recording = self.query(PushToTalk)
        export = self.query_one(TranscriptExport)
        if recording:
            recording.first().cancel()
            self.status("Recording cancelled.")
        elif self._cancel is not None:
            self._cancel.set()
            self.status("Stopping after this segment…")
        elif export.is_open:
            export.close()
            self.focus_file()
        else:
            return False
        return True

    def copy(self) -> None:
        text = plain_text(self._segments)
        if not text:
            self.notify("There is no transcript to copy yet.")
            return
        copy_with_notice(
            self.app, text, f"the transcript ({plural(len(self._segments), 'segment')})"
        )

    def export(self) -> None:
        """ctrl+s opens the "Save as" line with a suggested name; Enter writes the file."""
        if not self._segments:
            self.notify("There is no transcript to export yet.")
            return
        stem = self._source.with_suffix("") if self._source else Path.cwd() / "recording"
        self.query_one(TranscriptExport).open(Path(f"{stem}.srt"))

    @on(TranscriptExport.Saved)
    def _saved(self, message: TranscriptExport.Saved) -> None:
        self.focus_file()
        self.status(
            f"Saved the transcript ({plural(message.segments, 'segment')}) to {message.path}"
        )
        self.notify(f"Saved to {message.path}", title="Transcript exported")

    def text_for_chat(self) -> str:
        """The transcript on one line (stopping a running transcription), "" when none."""
        text = plain_text(self._segments).replace("\n", " ")
        if text and self._cancel is not None:
            self._cancel.set()
        return text
