"""`HostedSpeechEngine`: the SpeechEngine protocol over an EngineHost.

faster-whisper (CTranslate2) runs native code with its own thread pool; in a host process
a crash in it cannot take the app down, and unloading gives every byte back (the process
exits). Audio goes to the host pickled (a file path, or float32 samples: 5 s is 320 KB).

Cancel: the host's generator stops between segments; segments already on their way when
the caller cancelled are dropped here, so the caller sees none after it said stop.
The transcription ends for the caller as soon as it cancels; decoding one 30 s window of
a large model on a CPU can take seconds, so the host gets a generous grace in the
background before it is killed and the model loaded again (`HostedEngine`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from backends.base import EngineCapabilities
from backends.errors import BackendError
from backends.host.hosted_engine import HostedEngine
from backends.speech.protocol import (
    AudioInput,
    Segment,
    SpeechEvent,
    SpeechLoadOptions,
    TranscribeOptions,
    TranscriptionFinished,
)

CANCEL_GRACE_S = 15.0


class HostedSpeechEngine(HostedEngine[SpeechLoadOptions]):
    cancel_grace_s = CANCEL_GRACE_S
    load_cancel_grace_s = None  # a speech load stops between its stages

    def __init__(
        self,
        engine_class: type[Any],
        target: str,
        *,
        label: str | None = None,
        use_spare: bool = True,
    ) -> None:
        super().__init__(engine_class, target, label=label, use_spare=use_spare)
        self.capabilities: EngineCapabilities = engine_class.capabilities
        self._runtime = ""

    @property
    def runtime(self) -> str:
        """ "cpu int8": where and how the host runs the model."""
        return self._runtime

    def _after_load(self) -> None:
        self._runtime = str(self.host.call("runtime_label"))

    def _not_loaded(self) -> BackendError:
        return BackendError("No speech model is loaded.", title="No model")

    def transcribe(
        self,
        audio: AudioInput,
        options: TranscribeOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[SpeechEvent]:
        self._ready()
        cancel = cancel if cancel is not None else threading.Event()
        started = time.perf_counter()
        segments, covered, finished = 0, 0.0, False
        for event in self._iterate("transcribe", audio, options, cancel=cancel):
            if isinstance(event, Segment):
                if cancel.is_set():
                    continue  # decoded before the cancel reached the host: the user said stop
                segments += 1
                covered = max(covered, event.end)
            elif isinstance(event, TranscriptionFinished):
                finished = True
                covers = event.audio_s if event.reason == "done" else covered
                event = replace(event, segments=segments, audio_s=covers)
            yield event
        if not finished:  # stopped: the host finishes (or is killed) in the background
            yield TranscriptionFinished(
                reason="cancelled",
                segments=segments,
                audio_s=covered,  # up to the end of the last segment the caller received
                elapsed_s=time.perf_counter() - started,
            )
