"""Reading an answer aloud in the chat: a one-line bar above the prompt while it speaks.

The chat's read-aloud key mounts a `ReadAloudBar` with the answer's sentences (code blocks
said as "Code block.", markup left out); a thread worker makes and plays them through the
app's TtsManager, and the bar shows which sentence is playing. Esc stops it (`stop_reading`);
with no output device the first reading says where the WAV went.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.widgets import Static, TextArea

from backends.errors import BackendError
from backends.speech.read_aloud import speakable_sentences
from backends.speech.synthesis import AudioChunk
from backends.speech.tts_manager import Spoken, TtsManager

if TYPE_CHECKING:
    from backends.speech.playback import SpeechPlayer

PAUSE_KEY = "alt+p"


def speech_line(what: str, player: SpeechPlayer, levels: list[float]) -> Text:
    """`🔊 Reading 1/4: Hello.  00:01.2 ▂▄▆█  alt+p pauses · Esc stops`: what is said, the
    position in it and a level meter (`levels` keeps the meter's history)."""
    from tui.speech.push_to_talk import METER_WIDTH, clock, level_meter

    levels.append(0.0 if player.paused else player.level)
    del levels[:-METER_WIDTH]
    line = Text()
    line.append("🔊 ", style="bold")
    line.append(what)
    if player.position_s or player.paused:
        line.append(f"  {clock(player.position_s)} ")
        line.append("paused" if player.paused else level_meter(levels), style="green")
    keys = "resumes" if player.paused else "pauses"
    line.append(f"  {PAUSE_KEY} {keys} · Esc stops", style="dim")
    return line


class ReadAloudBar(Static):
    DEFAULT_CSS = """
    ReadAloudBar { height: 1; padding: 0 1; background: $primary 20%; }
    """

    def __init__(self, tts: TtsManager, sentences: list[str]) -> None:
        super().__init__("", id="read-aloud")
        self._tts = tts
        self._text = "\n\n".join(sentences)  # one chunk per sentence (a paragraph break)
        self._count = len(sentences)
        self._cancel = threading.Event()

    def on_mount(self) -> None:
        self._levels: list[float] = []
        self._show("Loading the voice…" if self._tts.spec is None else "Starting…")
        self.set_interval(0.1, self._refresh_meter)
        self._speak()

    def _show(self, what: str) -> None:
        self._what = what
        self._refresh_meter()

    def _refresh_meter(self) -> None:
        self.update(speech_line(self._what, self._tts.player, self._levels))

    def stop(self) -> None:
        self._cancel.set()
        self._tts.player.resume()  # a stop ends a pause: nothing is left to resume
        self._show("Stopping…")

    @work(thread=True, exclusive=True, group="read-aloud", exit_on_error=False)
    def _speak(self) -> None:
        def playing(chunk: AudioChunk) -> None:
            label = f"Reading {chunk.index + 1}/{self._count}: {chunk.text}"
            self.app.call_from_thread(self._show, label)

        spoken: Spoken | None = None
        error: BackendError | None = None
        try:
            spoken = self._tts.speak(self._text, cancel=self._cancel, on_chunk=playing)
        except BackendError as exc:
            error = exc
        self.app.call_from_thread(self._done, spoken, error)

    def _done(self, spoken: Spoken | None, error: BackendError | None) -> None:
        if error is not None:
            self.notify(error.message, title=error.title, severity="error", timeout=12)
        elif spoken is not None and spoken.playback.notice:
            self.notify(spoken.playback.notice, title="No sound output", timeout=15)
        elif spoken is not None and spoken.playback.cancelled:
            self.notify("Stopped reading aloud.")
        self.remove()


def read_last_answer(tts: TtsManager, content: str | None, prompt: TextArea) -> None:
    """The chat's read-aloud key: read `content` (the last answer), or stop a reading."""
    screen = prompt.screen
    if stop_reading(screen):
        return
    sentences = speakable_sentences(content or "")
    if not sentences:
        prompt.notify("There is no answer to read aloud yet.")
        return
    prompt.parent.mount(ReadAloudBar(tts, sentences), before=prompt)  # type: ignore[union-attr]


def pause_speech(tts: TtsManager, screen: object) -> bool | None:
    """The pause key: pause or resume the speech playing; None when nothing is read."""
    if not screen.query(ReadAloudBar) and not tts.player.paused and not tts.speaking:  # type: ignore[attr-defined]
        return None
    return tts.player.toggle_pause()


def stop_reading(screen: object) -> bool:
    """Esc: stop a reading in progress; True if there was one."""
    found = screen.query(ReadAloudBar)  # type: ignore[attr-defined]
    if not found:
        return False
    found.first().stop()
    return True
