"""Speech to text on a server: `POST /v1/audio/transcriptions` (speaches, vLLM, LocalAI,
llama-server) with `verbose_json`, whose segments carry their timestamps.

A recording (samples) is sent as a 16-bit WAV made in memory; a file goes as it is (the
server decodes it). Translation to English uses `/v1/audio/translations`. The request asks
`stream=true`: a server that streams (speaches: a segment at a time; OpenAI's shape: text
deltas) shows its text as it arrives (`transcript_stream.py`); one that ignores the flag
answers in one piece; one that refuses it (an HTTP 400/415/422) is asked again without it,
and not asked to stream again while loaded. The request runs in a helper thread that hands
the stream over through a queue, so a cancel returns at once.
"""

from __future__ import annotations

import io
import queue
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
from backends.chat.openai_wire import sse_payloads
from backends.errors import AudioError, GenerationError
from backends.remote.connection import ServerModel
from backends.remote.http import check, json_body, transport_error
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
from backends.speech.transcript_stream import StreamState, read_payload

CANCEL_CHECK_S = 0.05
REFUSED_STREAM = (400, 415, 422, 501)  # what servers answer to a form field they do not take


class OpenAITranscriptionEngine:
    """A SpeechEngine whose Whisper runs on an OpenAI-compatible server."""

    name: ClassVar[str] = "openai_stt"
    capabilities: ClassVar[EngineCapabilities] = EngineCapabilities(
        streaming=True, cancel=True, lists_models=True, holds_memory=False
    )

    def __init__(self) -> None:
        self._remote = ServerModel()
        self._streams = True  # False once the server refused `stream=true`

    @property
    def loaded(self) -> bool:
        return self._remote.loaded

    @property
    def runtime(self) -> str:
        """What the speech screen shows beside the model name."""
        return self._remote.runtime

    def load(
        self,
        spec: ModelSpec,
        options: SpeechLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._remote.open(spec, "openai", ("speech-to-text",))
        self._streams = True

    def transcribe(
        self,
        audio: AudioInput,
        options: TranscribeOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[SpeechEvent]:
        client, server, model = self._remote.require("speech")
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
        files = {"file": (name, data, "application/octet-stream")}
        state = StreamState(duration_s=_duration(audio, data))
        said_start = False

        def start() -> TranscriptionStarted:
            duration = state.duration_s or 0.0
            language = state.language or options.language or "unknown"
            return TranscriptionStarted(language, 1.0, duration, duration)

        stop = threading.Event()
        streaming = self._streams
        feed = _start(client, path, fields, files, streaming, stop)
        try:
            while True:
                try:
                    kind, value = feed.get(timeout=CANCEL_CHECK_S)
                except queue.Empty:
                    if cancel is not None and cancel.is_set():
                        elapsed = time.perf_counter() - started
                        yield TranscriptionFinished(
                            "cancelled", len(state.segments), state.reached_s, elapsed
                        )
                        return
                    continue
                if kind == "error":
                    raise _request_error(server, value)
                if kind == "response":
                    response: httpx.Response = value
                    if streaming and response.status_code in REFUSED_STREAM:
                        streaming = False  # the server may not take `stream`: ask plainly
                        feed = _start(client, path, fields, files, False, stop)
                        continue
                    if not streaming and response.status_code < 400:
                        self._streams = False  # it answered plainly: do not ask again
                    yield from self._whole(response, server, model, path, options, started)
                    return
                if kind == "end":
                    break
                for event in read_payload(value, state, server):
                    if not said_start:
                        said_start = True
                        yield start()
                    yield event
                if state.finished:
                    break
        finally:
            stop.set()
        if not said_start:
            yield start()
        audio_s = state.duration_s or state.reached_s
        elapsed = time.perf_counter() - started
        yield TranscriptionFinished("done", len(state.segments), audio_s, elapsed)

    def _whole(
        self,
        response: httpx.Response,
        server: ServerConfig,
        model: str,
        path: str,
        options: TranscribeOptions,
        started: float,
    ) -> Iterator[SpeechEvent]:
        """A transcription answered in one piece (`verbose_json`, or a plain `{"text"}`)."""
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
        self._remote.close()

    def memory_footprint(self) -> MemoryFootprint:
        return MemoryFootprint()  # the server holds the model


def _start(
    client: httpx.Client,
    path: str,
    fields: dict[str, str],
    files: dict[str, Any],
    stream: bool,
    stop: threading.Event,
) -> queue.Queue[tuple[str, Any]]:
    """Send the request in a helper thread. The queue gets ("data", payload) per SSE event
    then ("end", None) for a stream, ("response", read response) for any other answer, or
    ("error", HTTPError). `stop` makes the thread drop the rest of a stream."""
    feed: queue.Queue[tuple[str, Any]] = queue.Queue()
    data = {**fields, "stream": "true"} if stream else fields

    def run() -> None:
        try:
            with client.stream("POST", path, data=data, files=files) as response:
                streamed = response.headers.get("content-type", "").startswith("text/event-stream")
                if response.status_code >= 400 or not streamed:
                    response.read()
                    feed.put(("response", response))
                    return
                for payload in sse_payloads(response):
                    if stop.is_set():
                        return
                    feed.put(("data", payload))
            feed.put(("end", None))
        except httpx.HTTPError as error:
            feed.put(("error", error))

    threading.Thread(target=run, name="openai-transcription", daemon=True).start()
    return feed


def _request_error(server: ServerConfig, error: httpx.HTTPError) -> Exception:
    if isinstance(error, httpx.TransportError):
        return transport_error(server, error)
    return GenerationError(f"The request to {server.name} failed ({error}).")


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


def _duration(audio: AudioInput, data: bytes) -> float | None:
    """Seconds of audio where this side can tell (samples, a readable WAV); None if not."""
    if not isinstance(audio, str):
        return len(audio) / SAMPLE_RATE
    try:
        with wave.open(io.BytesIO(data)) as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (wave.Error, EOFError, ZeroDivisionError):
        return None


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
