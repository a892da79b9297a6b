"""The Speak tab of the Speech screen: text in, speech out (or a WAV file).

Type or paste text (or ctrl+l opens a .txt/.md file, Markdown markup left out), pick a voice
and a speed, ctrl+r plays it sentence by sentence with the sentence playing and the real-time
factor shown; ctrl+s writes it to a .wav instead; Esc stops. The first play loads the first
Kokoro model found (the voices list fills then).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, Static, TextArea

from backends.base import ModelSpec
from backends.errors import BackendError, UnsupportedOption
from backends.speech.playback import writable_suffixes
from backends.speech.synthesis import (
    AudioChunk,
    SynthesisFinished,
    SynthesisOptions,
    split_for_speech,
)
from backends.speech.text_file import MARKDOWN_SUFFIXES, TEXT_SUFFIXES, read_speakable
from backends.speech.tts_manager import Spoken, TtsManager
from tui.human_units import plural
from tui.widgets.path_input import PathInput


class SpeakPanel(Vertical):
    DEFAULT_CSS = """
    SpeakPanel { height: 1fr; }
    SpeakPanel .speak-row { height: 1; margin: 1 1 0 1; }
    SpeakPanel .speak-row Label { width: auto; margin-right: 1; color: $text-muted; }
    SpeakPanel #speak-voice { width: 40; margin-right: 2; }
    SpeakPanel #speak-speed { width: 6; }
    SpeakPanel #speak-text { height: 1fr; margin: 1 1 0 1; }
    SpeakPanel #speak-status { height: auto; padding: 0 1; color: $text-muted; }
    SpeakPanel #speak-save-row { display: none; }
    SpeakPanel #speak-save-row.-open { display: block; }
    SpeakPanel #speak-save { width: 1fr; }
    SpeakPanel #speak-open-row { display: none; }
    SpeakPanel #speak-open-row.-open { display: block; }
    SpeakPanel #speak-open { width: 1fr; }
    """

    BINDINGS = [
        Binding("ctrl+r", "speak", "Speak", id="speak.play"),
        Binding("ctrl+s", "save", "Save", id="speak.save"),
        Binding("ctrl+l", "open_file", "Open", id="speak.open"),
        Binding("alt+p", "pause", "Pause", show=False, id="speak.pause"),
        Binding("escape", "stop", "Stop/back", id="speak.stop"),
    ]

    @dataclass
    class Progressed(Message):
        chunk: AudioChunk | None = None
        count: int = 0
        spoken: Spoken | None = None
        saved: tuple[Path, SynthesisFinished | None] | None = None
        error: BackendError | None = None
        loaded: str | None = None

    def __init__(self, tts: TtsManager, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tts = tts
        self._cancel: threading.Event | None = None
        self._voices_of: str | None = None  # the model whose voices the list shows

    def compose(self) -> ComposeResult:
        with Horizontal(classes="speak-row"):
            yield Label("Voice")
            yield Select[str]([], prompt="the model's default", id="speak-voice", compact=True)
            yield Label("Speed")
            speed = self._tts.default_options().speed
            yield Input(f"{speed:.1f}", id="speak-speed", compact=True)
        with Horizontal(classes="speak-row", id="speak-open-row"):
            yield Label("Open")
            yield PathInput(
                placeholder="a .txt or .md file  (Tab completes, Enter opens)",
                suffixes=TEXT_SUFFIXES,
                id="speak-open",
            )
        yield TextArea(id="speak-text")
        yield Static(
            "Type or paste text (ctrl+l opens a file), then ctrl+r to hear it (ctrl+s saves).",
            id="speak-status",
            markup=False,
        )
        with Horizontal(classes="speak-row", id="speak-save-row"):
            yield Label("Save as")
            yield PathInput(placeholder="name.wav", suffixes=writable_suffixes(), id="speak-save")

    def on_mount(self) -> None:
        self._fill_voices()

    @property
    def busy(self) -> bool:
        return self._cancel is not None

    def _status(self, text: str) -> None:
        self.query_one("#speak-status", Static).update(text)

    def _fill_voices(self) -> None:
        spec, voices = self._tts.spec, self._tts.voices()
        if spec is None or not voices or spec.key == self._voices_of:
            return
        self._voices_of = spec.key
        select = self.query_one("#speak-voice", Select)
        select.set_options([(v.label, v.id) for v in voices])
        select.value = self._tts.default_voice()

    def _request(self) -> tuple[str, str | None, SynthesisOptions] | None:
        """The text, voice and options, or None after saying what is wrong."""
        text = self.query_one("#speak-text", TextArea).text
        if not text.strip():
            self._problem(BackendError("Type or paste some text first.", title="Nothing to say"))
            return None
        try:
            speed = float(self.query_one("#speak-speed", Input).value.strip() or "1")
            if not 0.5 <= speed <= 2.0:
                raise ValueError
        except ValueError:
            self._problem(UnsupportedOption("Speed is a number from 0.5 to 2 (1 is natural)."))
            return None
        voice = self.query_one("#speak-voice", Select).value
        return text, voice if isinstance(voice, str) else None, SynthesisOptions(speed=speed)

    def _problem(self, error: BackendError) -> None:
        self._status(f"{error.title}: {error.message}")
        self.notify(error.message, title=error.title, severity="error", timeout=10, markup=False)

    # -- actions -------------------------------------------------------------------------

    def action_speak(self) -> None:
        if self.busy:
            self.notify("Speaking already: Esc stops.")
            return
        request = self._request()
        if request is not None:
            self._cancel = threading.Event()
            self._status("Loading the voice…" if self._tts.spec is None else "Starting…")
            self._speak_worker(*request, self._cancel)

    def action_save(self) -> None:
        row = self.query_one("#speak-save-row")
        field = self.query_one("#speak-save", PathInput)
        if not field.value:
            field.value = str(Path.cwd() / "speech.wav")
        row.add_class("-open")
        field.focus()

    def action_open_file(self) -> None:
        self.query_one("#speak-save-row").remove_class("-open")
        self.query_one("#speak-open-row").add_class("-open")
        self.query_one("#speak-open", PathInput).focus()

    def action_pause(self) -> None:
        if not self.busy:
            return
        paused = self._tts.player.toggle_pause()
        self._status("Paused (alt+p resumes, Esc stops)." if paused else "Resumed.")

    def action_stop(self) -> None:
        rows = [r for r in self.query(".speak-row.-open")]
        if self._cancel is not None:
            self._tts.player.resume()
            self._cancel.set()
            self._status("Stopping…")
        elif rows:
            for row in rows:
                row.remove_class("-open")
            self.query_one("#speak-text", TextArea).focus()
        else:
            self.screen.action_stop()  # type: ignore[attr-defined]

    @on(Input.Submitted, "#speak-open")
    def _open(self, event: Input.Submitted) -> None:
        event.stop()
        path = self.query_one("#speak-open", PathInput).path
        if path is None:
            return
        try:
            text = read_speakable(path)
        except BackendError as exc:
            self._problem(exc)
            return
        self.query_one("#speak-open-row").remove_class("-open")
        area = self.query_one("#speak-text", TextArea)
        area.text = text
        area.focus()
        count = len(split_for_speech(text))
        markdown = " (Markdown markup left out)" if path.suffix.lower() in MARKDOWN_SUFFIXES else ""
        self._status(f"Opened {path.name}: {plural(count, 'sentence')}{markdown}. ctrl+r reads it.")

    @on(Input.Submitted, "#speak-save")
    def _save(self, event: Input.Submitted) -> None:
        event.stop()
        path = self.query_one("#speak-save", PathInput).path
        request = self._request()
        if path is None or request is None or self.busy:
            return
        self.query_one("#speak-save-row").remove_class("-open")
        self._cancel = threading.Event()
        self._status(f"Writing {path.name}…")
        self._save_worker(path, *request, self._cancel)

    def pick_voice_model(self) -> None:
        """ctrl+o on this tab: a Kokoro folder or a server's voice model."""
        from tui.screens.model_picker import ModelPickerScreen

        if self.busy:
            self.notify("Speaking already: Esc stops it first.")
            return

        def chosen(spec: ModelSpec | None) -> None:
            if spec is not None:
                self.load_voice_model(spec)

        settings = self.app.settings  # type: ignore[attr-defined]
        picker = ModelPickerScreen(settings, [], self._tts.spec, kind="tts")
        self.app.push_screen(picker, chosen)

    def load_voice_model(self, spec: ModelSpec) -> None:
        """Load a voice model here (picked, or run from its Hub card)."""
        if self.busy:
            self.notify("Speaking already: Esc stops it first.")
            return
        self._cancel = threading.Event()
        self._status(f"Loading {spec.name}…")
        self._load_worker(spec, self._cancel)

    # -- workers -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="speak", exit_on_error=False)
    def _load_worker(self, spec: ModelSpec, cancel: threading.Event) -> None:
        try:
            self._tts.load(spec, cancel=cancel)
        except BackendError as exc:
            self.post_message(self.Progressed(error=exc))
            return
        self.post_message(self.Progressed(loaded=spec.name))

    @work(thread=True, exclusive=True, group="speak", exit_on_error=False)
    def _speak_worker(
        self, text: str, voice: str | None, options: SynthesisOptions, cancel: threading.Event
    ) -> None:
        count = len(split_for_speech(text))
        try:
            spoken = self._tts.speak(
                text,
                voice=voice,
                options=options,
                cancel=cancel,
                on_chunk=lambda c: self.post_message(self.Progressed(c, count)),
            )
        except BackendError as exc:
            self.post_message(self.Progressed(error=exc))
            return
        self.post_message(self.Progressed(spoken=spoken, count=count))

    @work(thread=True, exclusive=True, group="speak", exit_on_error=False)
    def _save_worker(
        self,
        path: Path,
        text: str,
        voice: str | None,
        options: SynthesisOptions,
        cancel: threading.Event,
    ) -> None:
        try:
            saved = self._tts.save(text, path, voice=voice, options=options, cancel=cancel)
        except BackendError as exc:
            self.post_message(self.Progressed(error=exc))
            return
        self.post_message(self.Progressed(saved=saved))

    @on(Progressed)
    def _show(self, message: Progressed) -> None:
        self._fill_voices()
        self.screen._show_title()  # type: ignore[attr-defined]  # the model may have loaded
        if message.chunk is not None:
            chunk = message.chunk
            self._status(
                f"Sentence {chunk.index + 1}/{message.count}: {chunk.text}"
                "  (alt+p pauses, Esc stops)"
            )
            return
        self._cancel = None
        if message.error is not None:
            self._problem(message.error)
        elif message.spoken is not None:
            self._status(_spoken_line(message.spoken))
            if message.spoken.playback.notice:
                self.notify(message.spoken.playback.notice, title="No sound output", timeout=15)
        elif message.loaded is not None:
            self._status(f"Loaded {message.loaded}. Type text, then ctrl+r to hear it.")
        elif message.saved is not None:
            path, finished = message.saved
            rtf = finished.real_time_factor if finished else None
            speed = f" (real-time factor {rtf:.2f})" if rtf is not None else ""
            self._status(f"Saved the speech to {path}{speed}")
            self.notify(f"Saved to {path}", title="Speech saved")


def _spoken_line(spoken: Spoken) -> str:
    playback, made = spoken.playback, spoken.synthesis
    what = "Stopped" if playback.cancelled else "Done"
    parts = [f"{what}: {playback.played_s:.1f} s of speech"]
    if made is not None:
        parts.append(plural(made.chunks, "sentence"))
        if made.real_time_factor is not None:
            parts.append(f"real-time factor {made.real_time_factor:.2f}")
    if playback.path is not None:
        parts.append(f"written to {playback.path}")
    return " · ".join(parts) + "."
