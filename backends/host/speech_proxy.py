"""`HostedSpeechEngine`: the SpeechEngine protocol over an EngineHost.

faster-whisper (CTranslate2) runs native code with its own thread pool; in a host process
a crash in it cannot take the app down, and unloading gives every byte back (the process
exits). Audio goes to the host pickled (a file path, or float32 samples: 5 s is 320 KB).

Cancel: the host's generator stops between segments; segments already on their way when
the caller cancelled are dropped here, so the caller sees none after it said stop.
The transcription ends for the caller as soon as it cancels (`detach`); decoding one 30 s
window of a large model on a CPU can take seconds, so the host gets a generous grace in
the background before it is killed, and the next call loads the model again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from backends.base import EngineCapabilities, MemoryFootprint, ModelSpec, ProgressCallback
from backends.errors import BackendError
from backends.host.client import EngineHost
from backends.speech.protocol import (
    AudioInput,
    Segment,
    SpeechEvent,
    SpeechLoadOptions,
    TranscribeOptions,
    TranscriptionFinished,
)

log = logging.getLogger(__name__)

CANCEL_GRACE_S = 15.0


class HostedSpeechEngine:
    def __init__(
        self,
        engine_class: type[Any],
        target: str,
        *,
        label: str | None = None,
        use_spare: bool = True,
    ) -> None:
        self.name: str = engine_class.name
        self.capabilities: EngineCapabilities = engine_class.capabilities
        self.host = EngineHost(target, label=label or self.name, use_spare=use_spare)
        self._spec: ModelSpec | None = None
        self._options: SpeechLoadOptions | None = None
        self._runtime = ""

    @property
    def loaded(self) -> bool:
        return self._spec is not None

    @property
    def runtime(self) -> str:
        """ "cpu int8": where and how the host runs the model."""
        return self._runtime

    def load(
        self,
        spec: ModelSpec,
        options: SpeechLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._spec = None
        try:
            self.host.start()
            self.host.call("load", spec, options, progress=progress, cancel=cancel)
            self._runtime = str(self.host.call("runtime_label"))
        except BaseException:
            self.host.close()  # a failed or cancelled load leaves no process behind
            raise
        self._spec, self._options = spec, options

    def transcribe(
        self,
        audio: AudioInput,
        options: TranscribeOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[SpeechEvent]:
        spec, load_options = self._spec, self._options
        if spec is None or load_options is None:
            raise BackendError("No speech model is loaded.", title="No model")
        if not self.host.alive:  # crashed or killed since the last call: load it again
            self.host.start()
            self.host.call("load", spec, load_options)
        started = time.perf_counter()
        segments, covered, finished = 0, 0.0, False
        for event in self.host.iterate(
            "transcribe", audio, options, cancel=cancel, grace_s=CANCEL_GRACE_S, detach=True
        ):
            if isinstance(event, Segment):
                if cancel is not None and cancel.is_set():
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

    def unload(self) -> None:
        self._spec, self._options = None, None
        self.host.close()

    def memory_footprint(self) -> MemoryFootprint:
        """What the host process tree holds (nothing when no model is loaded)."""
        return self.host.footprint() if self._spec is not None else MemoryFootprint()
