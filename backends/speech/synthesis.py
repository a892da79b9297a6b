"""The text-to-speech contract and the typed events a synthesis yields.

Beside `protocol.py` (speech to text). An engine's calls are synchronous and blocking;
callers choose the thread. `synthesize` yields one `SynthesisStarted`, then an `AudioChunk`
per piece of text (a sentence, or a part of a long one) as soon as it is made, so playback
can start before the whole text is rendered, then exactly one `SynthesisFinished`, also
when cancelled. Cancel is checked between chunks. Every event is a frozen, picklable
dataclass (PCM travels as bytes, not as an array) so the engine can run in a host process.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, runtime_checkable

from backends.base import EngineCapabilities, MemoryFootprint, ModelSpec, ProgressCallback
from backends.errors import BackendError

if TYPE_CHECKING:
    import numpy as np

Gender = Literal["female", "male", "unknown"]
SampleFormat = Literal["float32", "int16"]


@dataclass(frozen=True)
class Voice:
    """A voice the loaded model speaks with. `language` is a BCP 47 tag ("en-US", "ja")."""

    id: str
    language: str
    gender: Gender = "unknown"
    name: str = ""  # for display; the id when empty

    @property
    def label(self) -> str:
        return f"{self.name or self.id} ({self.language}, {self.gender})"


@dataclass(frozen=True)
class TtsLoadOptions:
    """How to load a text-to-speech model."""

    cpu_threads: int | None = None  # None: cores - 1, leaving one for the UI


@dataclass(frozen=True)
class SynthesisOptions:
    """One synthesis's choices; `speed` 1.0 is the voice's natural pace."""

    speed: float = 1.0
    language: str | None = None  # None: the voice's language


@dataclass(frozen=True)
class SynthesisStarted:
    """The voice is known and text is being made into sound; chunks follow."""

    voice: str
    sample_rate: int
    pieces: int  # how many chunks to expect (the text split at sentence ends)


@dataclass(frozen=True)
class AudioChunk:
    """Mono PCM for one piece of text, in order; `index` counts from 0."""

    index: int
    text: str
    pcm: bytes
    sample_rate: int
    sample_format: SampleFormat = "float32"

    @property
    def frames(self) -> int:
        return len(self.pcm) // (4 if self.sample_format == "float32" else 2)

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    def samples(self) -> np.ndarray:
        """The PCM as float32 in [-1, 1], whatever the format it travelled in."""
        import numpy as np

        if self.sample_format == "int16":
            return np.frombuffer(self.pcm, dtype=np.int16).astype(np.float32) / 32768.0
        return np.frombuffer(self.pcm, dtype=np.float32)

    @classmethod
    def from_samples(cls, index: int, text: str, samples: np.ndarray, rate: int) -> AudioChunk:
        import numpy as np

        mono = np.asarray(samples, dtype=np.float32).reshape(-1)
        return cls(index, text, mono.tobytes(), rate, "float32")


@dataclass(frozen=True)
class SynthesisFinished:
    """The last event of every synthesis."""

    reason: Literal["done", "cancelled"]
    chunks: int
    audio_s: float  # of the audio made
    elapsed_s: float  # from the call to the last chunk

    @property
    def real_time_factor(self) -> float | None:
        """Seconds of work per second of audio (below 1: faster than real time)."""
        return self.elapsed_s / self.audio_s if self.audio_s > 0 else None


SynthesisEvent = SynthesisStarted | AudioChunk | SynthesisFinished

_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"'”’)\]]*\s+|\n{2,}")


def split_for_speech(text: str, max_chars: int = 300) -> list[str]:
    """Text in pieces an engine can speak one at a time: sentences, long ones cut at commas
    or spaces, blank pieces dropped. Cutting at sentence ends keeps the intonation."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = " ".join(sentence.split())
        while len(sentence) > max_chars:
            cut = max(sentence.rfind(", ", 0, max_chars), sentence.rfind(" ", 0, max_chars))
            cut = cut if cut > 0 else max_chars
            pieces.append(sentence[: cut + 1].strip())
            sentence = sentence[cut + 1 :].strip()
        if sentence:
            pieces.append(sentence)
    return pieces


class EmptyText(BackendError):
    title = "Nothing to say"


class UnknownVoice(BackendError):
    title = "Unknown voice"


def pieces_to_say(text: str) -> list[str]:
    """`split_for_speech(text)`, or EmptyText when there is nothing to say."""
    pieces = split_for_speech(text)
    if not pieces:
        raise EmptyText("There is no text to read aloud. Type or paste some first.")
    return pieces


@runtime_checkable
class SpeechSynthesizer(Protocol):
    name: ClassVar[str]
    capabilities: ClassVar[EngineCapabilities]

    def load(
        self,
        spec: ModelSpec,
        options: TtsLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Load the model and its voices; a BackendError subclass with a clear message."""
        ...

    def voices(self) -> list[Voice]:
        """The voices of the loaded model (empty before a load)."""
        ...

    def synthesize(
        self,
        text: str,
        voice: str,
        options: SynthesisOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[SynthesisEvent]:
        """Yield SynthesisStarted, AudioChunks in order, then one SynthesisFinished.

        Setting `cancel` stops between chunks with reason "cancelled". Errors: EmptyText-like
        BackendErrors for blank text, an unknown voice, a speed out of range.
        """
        ...

    def unload(self) -> None:
        """Release the model and its memory; safe to call twice."""
        ...

    @property
    def loaded(self) -> bool: ...

    def memory_footprint(self) -> MemoryFootprint: ...
