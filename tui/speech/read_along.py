"""Reading every answer aloud as it streams (the chat's alt+a toggle).

The chat hands each batch of the answer to `ReadAlong.feed`; finished sentences (cut by
`SpeakableText`, so never mid-word, code blocks said as "Code block.") go on a queue that one
speaker thread says in order through the app's TtsManager, while the answer keeps streaming.
Esc (`stop`) silences it: the sentence playing stops within a block and the rest of that
answer is dropped; the next answer is read again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from backends.errors import BackendError
from backends.speech.read_aloud import SpeakableText
from backends.speech.tts_manager import TtsManager

if TYPE_CHECKING:
    from textual.screen import Screen

log = logging.getLogger(__name__)


class ReadAlong:
    def __init__(self, tts: TtsManager, report: Callable[[BackendError | str], None]) -> None:
        """`report` is called from the speaker thread with an error or a notice to show."""
        self._tts = tts
        self._report = report
        self.enabled = False
        self._next_answer = False  # read the next answer even when not enabled (voice loop)
        self._text = SpeakableText()
        self._queue: queue.Queue[tuple[int, str, float]] = queue.Queue()
        self._generation = 0  # bumped by stop(): queued sentences of older answers are dropped
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._speaking = False
        self.spoken: list[str] = []  # what was said, in order (for the tests and a status)
        self.waits_s: list[float] = []  # sentence complete in the stream -> its first sound

    def toggle(self) -> bool:
        self.enabled = not self.enabled
        if not self.enabled:
            self.stop()
        return self.enabled

    def read_next_answer(self) -> None:
        """Read the next answer aloud once, whatever the toggle (a spoken question's)."""
        self._next_answer = True

    @property
    def speaking(self) -> bool:
        return self._speaking or not self._queue.empty()

    def feed(self, text: str, last: bool) -> None:
        """A batch of the streaming answer (and whether it is the last)."""
        if not (self.enabled or self._next_answer):
            return
        sentences = self._text.feed(text)
        if last:
            sentences += self._text.finish()
            self._next_answer = False
        now = time.perf_counter()
        for sentence in sentences:
            self._queue.put((self._generation, sentence, now))
        if sentences and self._thread is None:
            self._thread = threading.Thread(target=self._speak, name="read-along", daemon=True)
            self._thread.start()

    def stop(self) -> bool:
        """Silence now and drop the rest of this answer; True if something was being read."""
        busy = self.speaking
        self._generation += 1
        self._text = SpeakableText()
        self._cancel.set()
        self._tts.player.resume()
        return busy

    def _speak(self) -> None:
        while True:
            generation, sentence, ready = self._queue.get()
            if generation != self._generation:
                continue  # an answer stopped with Esc
            self._cancel = threading.Event()
            if generation != self._generation:
                continue  # stopped while this sentence was being taken off the queue
            self._speaking = True
            try:
                self._say(sentence, ready)
            except BackendError as exc:
                self._failed(exc, generation)
            except Exception as exc:  # never let this thread die: no answer would be read again
                log.exception("reading a sentence aloud failed")
                self._failed(BackendError(f"Reading aloud failed: {exc}.", title="Read aloud"),
                             generation)  # fmt: skip
            finally:
                self._speaking = False

    def _failed(self, error: BackendError, generation: int) -> None:
        """Say why, turn reading off and drop the rest of this answer (not read after the
        notice that reading stopped)."""
        self._report(error)
        self.enabled = False
        if generation == self._generation:
            self._generation += 1
            self._text = SpeakableText()

    def _say(self, sentence: str, ready: float) -> None:
        waited: list[float] = []

        def heard(_chunk: object) -> None:
            if not waited:
                waited.append(time.perf_counter() - ready)

        spoken = self._tts.speak(sentence, cancel=self._cancel, on_chunk=heard)
        self.waits_s.extend(waited)
        if not spoken.playback.cancelled:
            self.spoken.append(sentence)
        if spoken.playback.notice:
            self._report(spoken.playback.notice)


def chat_read_along(screen: Screen[None]) -> ReadAlong:
    """A reader for the chat screen: its errors and "no sound output" notes become
    notifications (sent from its speaker thread)."""

    def report(what: BackendError | str) -> None:
        if isinstance(what, BackendError):
            args = (what.message, what.title, "error")
        else:
            args = (what, "No sound output", "information")
        screen.app.call_from_thread(screen.notify, args[0], title=args[1], severity=args[2])

    return ReadAlong(screen.app.tts, report)  # type: ignore[attr-defined]
