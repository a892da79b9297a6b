"""`HostedTtsEngine`: the text-to-speech protocol over an EngineHost (`HostedEngine`).

onnxruntime runs native code with its own threads; in a host process a crash cannot take
the app down and unloading gives every byte back. Chunks travel pickled (PCM as bytes: a
sentence of 24 kHz float32 speech is ~300 KB). Cancel: chunks already on their way when the
caller cancelled are dropped here, and the caller gets its "cancelled" finish at once; one
sentence of Kokoro on a busy CPU can take seconds, so the host gets that long to stop on
its own before it is killed and the model loaded again in the background.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from backends.base import EngineCapabilities
from backends.errors import BackendError
from backends.host.hosted_engine import HostedEngine
from backends.speech.synthesis import (
    AudioChunk,
    SynthesisEvent,
    SynthesisFinished,
    SynthesisOptions,
    TtsLoadOptions,
    Voice,
)


class HostedTtsEngine(HostedEngine[TtsLoadOptions]):
    cancel_grace_s = 10.0  # a long sentence at a real-time factor of ~4 (measured here)
    load_cancel_grace_s = None  # a Kokoro load is one short native stage

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
        self._voices: list[Voice] = []

    def _after_load(self) -> None:
        self._voices = list(self.host.call("voices"))

    def _not_loaded(self) -> BackendError:
        return BackendError("No text-to-speech model is loaded.", title="No model")

    def voices(self) -> list[Voice]:
        return list(self._voices) if self.loaded else []

    def synthesize(
        self,
        text: str,
        voice: str,
        options: SynthesisOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[SynthesisEvent]:
        self._ready()
        cancel = cancel if cancel is not None else threading.Event()
        started = time.perf_counter()
        chunks, audio_s, finished = 0, 0.0, False
        for event in self._iterate("synthesize", text, voice, options, cancel=cancel):
            if isinstance(event, AudioChunk):
                if cancel.is_set():
                    continue  # made before the cancel reached the host: the user said stop
                chunks, audio_s = chunks + 1, audio_s + event.duration_s
            elif isinstance(event, SynthesisFinished):
                finished = True
            yield event
        if not finished:  # stopped: the host finishes (or is killed) in the background
            yield SynthesisFinished("cancelled", chunks, audio_s, time.perf_counter() - started)
