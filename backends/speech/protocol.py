"""The speech-to-text contract and the typed events a transcription yields.

Like chat engines, a speech engine's calls are synchronous and blocking; callers choose the
thread. `transcribe` yields one `TranscriptionStarted`, then a `Segment` per decoded segment
(as soon as it is decoded), then exactly one `TranscriptionFinished`, also when cancelled.
An engine whose text arrives before its segments (a server streaming text deltas) yields
`PartialText` in between: the text so far that no `Segment` carries yet.
Every event is a frozen, picklable dataclass so the engine can run in a host process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, Union, runtime_checkable

from backends.base import EngineCapabilities, MemoryFootprint, ModelSpec, ProgressCallback

if TYPE_CHECKING:
    import numpy as np

SpeechDevice = Literal["auto", "cpu", "cuda"]
ComputeType = Literal["default", "int8", "int8_float16", "int8_float32", "float16", "float32"]
Task = Literal["transcribe", "translate"]

SAMPLE_RATE = 16_000  # what Whisper models take; recorded audio is resampled to it

# A file path (anything faster-whisper's decoder reads: wav, mp3, flac, ogg, m4a, ...) or
# mono float32 samples at SAMPLE_RATE in [-1, 1].
AudioInput = Union[str, "np.ndarray"]


@dataclass(frozen=True)
class SpeechLoadOptions:
    """How to load a speech model.

    compute_type "default" means int8 on the CPU (fast, small, accurate enough for Whisper)
    and float16 on CUDA.
    """

    device: SpeechDevice = "auto"
    compute_type: ComputeType = "default"
    cpu_threads: int | None = None  # None: cores - 1, leaving one for the UI


@dataclass(frozen=True)
class TranscribeOptions:
    """One transcription's choices. `language` None detects it (multilingual models only)."""

    language: str | None = None
    task: Task = "transcribe"  # "translate" turns any language into English text
    vad_filter: bool = False  # skip silence with Silero VAD before decoding
    beam_size: int = 5
    initial_prompt: str | None = None


@dataclass(frozen=True)
class TranscriptionStarted:
    """The audio is decoded and the language known; segments follow."""

    language: str
    language_probability: float
    duration_s: float  # of the audio (after VAD if it removed silence: see duration_kept_s)
    duration_kept_s: float


@dataclass(frozen=True)
class Segment:
    """One decoded stretch of speech; times are seconds from the start of the audio."""

    index: int
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class TranscriptionFinished:
    """The last event of every transcription."""

    reason: Literal["done", "cancelled"]
    segments: int
    audio_s: float  # the audio covered: all of it when done, up to the last segment's end if not
    elapsed_s: float  # from the call to the last segment, decoding the audio included

    @property
    def real_time_factor(self) -> float | None:
        """Seconds of work per second of audio (below 1: faster than real time)."""
        return self.elapsed_s / self.audio_s if self.audio_s > 0 else None


@dataclass(frozen=True)
class PartialText:
    """Text decoded after the last Segment, not yet cut into a timed segment (a server
    streaming `transcript.text.delta`s). Each one replaces the previous; the next Segment
    carries this text and ends it."""

    text: str


SpeechEvent = TranscriptionStarted | Segment | PartialText | TranscriptionFinished


@runtime_checkable
class SpeechEngine(Protocol):
    name: ClassVar[str]
    capabilities: ClassVar[EngineCapabilities]

    def load(
        self,
        spec: ModelSpec,
        options: SpeechLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Load the model; raise a BackendError subclass with a clear message on failure."""
        ...

    def transcribe(
        self,
        audio: AudioInput,
        options: TranscribeOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[SpeechEvent]:
        """Yield TranscriptionStarted, Segments as decoded, then one TranscriptionFinished.

        Setting `cancel` stops between segments with reason "cancelled".
        """
        ...

    def unload(self) -> None:
        """Release the model and its memory; safe to call twice."""
        ...

    @property
    def loaded(self) -> bool: ...

    def memory_footprint(self) -> MemoryFootprint: ...
