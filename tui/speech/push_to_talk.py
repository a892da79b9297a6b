"""Push-to-talk: a one-line recorder with a level meter and elapsed time.

Terminals report key presses, not releases, so "push to talk" is press to start, press
again to stop. While recording the bar shows `● REC 00:03.4 ▂▄▆█▆` and the keys; on stop
the audio goes to `on_recorded`. `PromptDictation` is the chat's use: it transcribes the
audio in a worker and inserts the words into the prompt at the cursor, to edit and send.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.widgets import Static, TextArea

from backends.errors import BackendError
from backends.speech.protocol import SAMPLE_RATE, Segment

if TYPE_CHECKING:
    import numpy as np

    from backends.speech.manager import SpeechManager
    from backends.speech.microphone import Recorder

BARS = " ▁▂▃▄▅▆▇█"
METER_WIDTH = 12
MIN_SECONDS = 0.3  # shorter than this is a slip of the finger, not speech


def level_meter(history: list[float], width: int = METER_WIDTH) -> str:
    """The last `width` levels (0..1) as block characters, oldest first."""
    recent = ([0.0] * width + history)[-width:]
    return "".join(BARS[min(len(BARS) - 1, round(v * (len(BARS) - 1)))] for v in recent)


def clock(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes):02d}:{secs:04.1f}"


class PushToTalk(Static):
    """A recording in progress; `start()` raises MicrophoneUnavailable when there is none."""

    DEFAULT_CSS = """
    PushToTalk { height: 1; padding: 0 1; background: $error 20%; }
    PushToTalk.-busy { background: $primary 20%; }
    """

    def __init__(
        self,
        recorder: Recorder,
        on_recorded: Callable[[np.ndarray], None],
        *,
        keys: str = "F8 stops · Esc cancels",
        id: str | None = None,
    ) -> None:
        super().__init__("", id=id)
        self._recorder = recorder
        self._on_recorded = on_recorded
        self._keys = keys
        self._levels: list[float] = []

    @property
    def recording(self) -> bool:
        return self._recorder.recording

    def start(self) -> None:
        self._recorder.start()

    def on_mount(self) -> None:
        self._refresh_meter()
        self.set_interval(0.1, self._refresh_meter)

    def on_unmount(self) -> None:
        # Leaving the screen or quitting mid-recording: let the microphone go.
        if self._recorder.recording:
            self._recorder.cancel()

    def _refresh_meter(self) -> None:
        if not self._recorder.recording:
            return
        self._levels.append(self._recorder.level)
        del self._levels[:-METER_WIDTH]
        line = Text()
        line.append("● REC ", style="bold red")
        line.append(f"{clock(self._recorder.elapsed_s)} ")
        line.append(level_meter(self._levels), style="green")
        line.append(f"  {self._keys}", style="dim")
        self.update(line)

    def finish(self) -> None:
        """Stop recording and hand the audio over (too short: say so and drop it)."""
        audio = self._recorder.stop()
        if audio.size < MIN_SECONDS * SAMPLE_RATE:
            self.notify("Nothing recorded: hold on a little longer next time.")
            self.remove()
            return
        self._on_recorded(audio)

    def cancel(self) -> None:
        self._recorder.cancel()
        self.remove()

    def show_busy(self, text: str) -> None:
        self.add_class("-busy")
        self.update(Text(text))


class PromptDictation(PushToTalk):
    """Push-to-talk into a text area: the transcript lands at its cursor."""

    def __init__(
        self,
        speech: SpeechManager,
        target: TextArea,
        on_inserted: Callable[[], None] | None = None,
    ) -> None:
        """`on_inserted` runs after the words land in `target` (the voice loop sends them)."""
        super().__init__(speech.recorder(), self._transcribe, id="push-to-talk")
        self._speech = speech
        self._target = target
        self._on_inserted = on_inserted
        self._cancel = threading.Event()
        self._transcribing = False

    @property
    def transcribing(self) -> bool:
        return self._transcribing

    def _transcribe(self, audio: np.ndarray) -> None:
        self._transcribing = True
        self.show_busy(f"Transcribing {len(audio) / SAMPLE_RATE:.1f} s of speech… (Esc cancels)")
        self._run(audio)

    def cancel(self) -> None:
        self._cancel.set()
        if self.recording:
            super().cancel()
        elif not self._transcribing:
            self.remove()

    @work(thread=True, exclusive=True, group="push-to-talk", exit_on_error=False)
    def _run(self, audio: np.ndarray) -> None:
        words: list[str] = []
        error: BackendError | None = None
        try:
            for event in self._speech.transcribe(audio, cancel=self._cancel):
                if isinstance(event, Segment) and event.text:
                    words.append(event.text)
        except BackendError as exc:
            error = exc
        self.app.call_from_thread(self._done, " ".join(words), error)

    def _done(self, text: str, error: BackendError | None) -> None:
        self._transcribing = False
        if error is not None:
            self.notify(
                error.message, title=error.title, severity="error", timeout=10, markup=False
            )
        elif self._cancel.is_set():
            self.notify("Dictation cancelled.")
        elif not text:
            self.notify("No words were recognised in the recording.")
        else:
            self._target.insert(spaced(self._target, text))
            self._target.focus()
            if self._on_inserted is not None:
                self._on_inserted()
        self.remove()


def spaced(target: TextArea, text: str) -> str:
    """`text` with a space on each side where it would touch other words at the cursor."""
    row, column = target.cursor_location
    line = target.document.get_line(row)
    if column > 0 and not line[column - 1].isspace():
        text = " " + text
    if column < len(line) and not line[column].isspace():
        text = text + " "
    return text


def toggle_dictation(
    speech: SpeechManager, target: TextArea, on_inserted: Callable[[], None] | None = None
) -> None:
    """The chat's push-to-talk key: start recording, or stop and transcribe."""
    screen = target.screen
    found = screen.query(PromptDictation)
    if found:
        dictation = found.first()
        if dictation.recording:
            dictation.finish()
        else:
            target.notify("Still transcribing the last recording (Esc cancels it).")
        return
    dictation = PromptDictation(speech, target, on_inserted)
    try:
        dictation.start()
    except BackendError as exc:
        target.notify(exc.message, title=exc.title, severity="warning", timeout=12)
        return
    target.parent.mount(dictation, before=target)  # type: ignore[union-attr]


def cancel_dictation(screen: object) -> bool:
    """Esc: cancel a recording or a transcription in progress; True if there was one."""
    found = screen.query(PromptDictation)  # type: ignore[attr-defined]
    if not found:
        return False
    found.first().cancel()
    return True
