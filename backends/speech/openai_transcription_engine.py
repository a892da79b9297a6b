"""Speech to text on a server: `POST /v1/audio/transcriptions` (speaches, vLLM, LocalAI,
llama-server) with `verbose_json`, whose segments carry their timestamps.

A recording (samples) is sent as a 16-bit WAV made in memory; a file goes as it is (the
server decodes it). Translation to English uses `/v1/audio/translations`. The request runs
in a helper thread so a cancel returns at once. The server answers in one piece, so the
segments arrive together when it is done.
"""

from __future__ import annotations

import io
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx

from backends.base import (
    EngineCapabilities,
    MemoryFootprint,
    ModelSpec,
    ProgressCallback,
    ServerConfig,
)
from backends.errors import AudioError, GenerationError
from backends.remote.http import check, json_body, make_client
from backends.remote.probe import probe_for_load
from backends.speech.protocol import (
    SAMPLE_RATE,
    AudioInput,
    Segment,
    SpeechEvent,
    SpeechLoadOptions,
    TranscribeOptions,
    TranscriptionFinished,
    TranscriptionStarted,
)

CANCEL_CHECK_S = 0.05


class OpenAITranscriptionEngine:
    """A SpeechEngine whose Whisper runs on an OpenAI-compatible server."""

    name: ClassVar[str] = "openai_stt"
    capabilities: ClassVar[EngineCapabilities] = EngineCapabilities(
        streaming=False, cancel=True, lists_models=True, holds_memory=False
    )

    def __init__(self) -> None:
        self._client: httpx.Client | None = None
        self._server: ServerConfig | None = None
        self._model: str | None = None

    @property
    def loaded(self) -> bool:
        return self._client is not None

    @property
    def runtime(self) -> str:
        """What the speech screen shows beside the model name."""
        return f"on {self._server.name}" if self._server is not None else ""

    def load(
        self,
        spec: ModelSpec,
        options: SpeechLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.unload()
        server, _offered, model = probe_for_load(spec, "openai", ("speech-to-text",))
        self._client, self._server, self._model = make_client(server), server, model

    def transcribe(
        self,
        audio: AudioInput,
        options: TranscribeOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[SpeechEvent]:
        client, server, model = self._client, self._server, self._model
        if client is None or server is None or model is None:
            raise GenerationError("No speech model is loaded. Pick one first (ctrl+o).")
        started = time.perf_counter()
        if cancel is not None and cancel.is_set():
            yield TranscriptionFinished("cancelled", 0, 0.0, 0.0)
            return
        name, data = _audio_bytes(audio)
        fields = {"model": model, "response_format": "verbose_json"}
        fields["timestamp_granularities[]"] = "segment"
        if options.language and options.task == "transcribe":
            fields["language"] = options.language
        if options.initial_prompt:
            fields["prompt"] = options.initial_prompt
        path = "audio/translations" if options.task == "translate" else "audio/transcriptions"
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def post() -> None:
            try:
                outcome["response"] = client.post(
                    path, data=fields, files={"file": (name, data, "application/octet-stream")}
                )
            except httpx.HTTPError as error:
                outcome["error"] = error
            finally:
                done.set()

        threading.Thread(target=post, name="openai-transcription", daemon=True).start()
        while not done.wait(CANCEL_CHECK_S):
            if cancel is not None and cancel.is_set():
                yield TranscriptionFinished("cancelled", 0, 0.0, time.perf_counter() - started)
                return
        if "error" in outcome:
            from backends.chat.openai_errors import unreachable_error

            error = outcome["error"]
            if isinstance(error, httpx.TransportError):
                raise unreachable_error(server, error) from error
            raise GenerationError(f"The request to {server.name} failed ({error}).") from error
        response: httpx.Response = outcome["response"]
        check(response, server, what=f"/{path}", model=model)
        payload = json_body(response, server, f"/{path}")
        if not isinstance(payload, dict):
            raise GenerationError(f"{server.name} sent a transcription this app cannot read.")
        segments = _segments(payload)
        duration = float(payload.get("duration") or (segments[-1].end if segments else 0.0))
        yield TranscriptionStarted(
            language=str(payload.get("language") or options.language or "unknown"),
            language_probability=1.0,
            duration_s=duration,
            duration_kept_s=duration,
        )
        yield from segments
        yield TranscriptionFinished("done", len(segments), duration, time.perf_counter() - started)

    def unload(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client, self._server, self._model = None, None, None

    def memory_footprint(self) -> MemoryFootprint:
        return MemoryFootprint()  # the server holds the model


def _segments(payload: dict[str, Any]) -> list[Segment]:
    """`verbose_json` segments; a plain `{"text"}` answer becomes one untimed segment."""
    raw = payload.get("segments")
    if isinstance(raw, list) and raw:
        return [
            Segment(i, float(s.get("start") or 0.0), float(s.get("end") or 0.0), str(s["text"]))
            for i, s in enumerate(raw)
            if isinstance(s, dict) and "text" in s
        ]
    text = str(payload.get("text") or "")
    return [Segment(0, 0.0, float(payload.get("duration") or 0.0), text)] if text else []


def _audio_bytes(audio: AudioInput) -> tuple[str, bytes]:
    """(file name, bytes) to upload: a file as it is, samples as a 16 kHz 16-bit WAV."""
    if isinstance(audio, str):
        try:
            return Path(audio).name, Path(audio).read_bytes()
        except OSError as error:
            raise AudioError(f"Cannot read {audio} ({error.strerror}). Check the path.") from None
    import numpy as np

    samples = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return "recording.wav", buffer.getvalue()
