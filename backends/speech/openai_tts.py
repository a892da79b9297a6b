"""Text to speech on a server: `POST /v1/audio/speech` (speaches, LocalAI, vLLM-Omni, Kokoro-
FastAPI) with `model`, `input`, `voice`, `response_format` and `speed`.

The text goes one sentence per request (cut like the local engine's), so the first sentence
plays while the server makes the next, and a cancel lands between sentences; each answer is
asked as `wav` and read with the stdlib `wave` module (a raw `pcm` answer, 16-bit 24 kHz as
OpenAI defines it, is read too). Voices come from `GET /v1/audio/voices` where the server
offers it (speaches, Kokoro-FastAPI); otherwise the voice named in the settings is sent as is.
"""

from __future__ import annotations

import io
import threading
import time
import wave
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx

from backends.base import (
    EngineCapabilities,
    MemoryFootprint,
    ModelSpec,
    ProgressCallback,
    ServerConfig,
)
from backends.errors import GenerationError
from backends.remote.connection import ServerModel
from backends.remote.http import check, send
from backends.speech.kokoro_engine import voice_info
from backends.speech.synthesis import (
    AudioChunk,
    SynthesisEvent,
    SynthesisFinished,
    SynthesisOptions,
    SynthesisStarted,
    TtsLoadOptions,
    UnknownVoice,
    Voice,
    pieces_to_say,
)

PCM_RATE = 24_000  # OpenAI's raw `pcm`: 16-bit little-endian mono at 24 kHz
DEFAULT_VOICE = "alloy"  # OpenAI's first voice; speaches and LocalAI map it to one of theirs


class OpenAITtsEngine:
    """A SpeechSynthesizer whose voice runs on an OpenAI-compatible server."""

    name: ClassVar[str] = "openai_tts"
    capabilities: ClassVar[EngineCapabilities] = EngineCapabilities(
        streaming=True, cancel=True, lists_models=True, holds_memory=False
    )

    def __init__(self) -> None:
        self._remote = ServerModel()
        self._voices: list[Voice] = []

    @property
    def loaded(self) -> bool:
        return self._remote.loaded

    @property
    def runtime(self) -> str:
        return self._remote.runtime

    def load(
        self,
        spec: ModelSpec,
        options: TtsLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.unload()
        self._remote.open(spec, "openai", ("text-to-speech",))
        self._voices = _listed_voices(*self._remote.require("text-to-speech"))

    def voices(self) -> list[Voice]:
        return list(self._voices)

    def synthesize(
        self,
        text: str,
        voice: str,
        options: SynthesisOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[SynthesisEvent]:
        client, server, model = self._remote.require("text-to-speech")
        pieces = pieces_to_say(text)
        ids = [v.id for v in self._voices]
        voice = voice or (ids[0] if ids else DEFAULT_VOICE)
        if ids and voice not in ids:
            listed = ", ".join(ids[:12]) + (" …" if len(ids) > 12 else "")
            raise UnknownVoice(f"{server.name} has no voice {voice!r} for {model}: {listed}.")
        started = time.perf_counter()
        yield SynthesisStarted(voice, PCM_RATE, len(pieces))
        made, audio_s = 0, 0.0
        for index, piece in enumerate(pieces):
            if cancel is not None and cancel.is_set():
                break
            body = {
                "model": model,
                "input": piece,
                "voice": voice,
                "response_format": "wav",
                "speed": options.speed,
            }
            response = send(client, server, "POST", "audio/speech", json=body)
            check(response, server, what="/audio/speech", model=model)
            chunk = _chunk(index, piece, response.content, server)
            made, audio_s = made + 1, audio_s + chunk.duration_s
            yield chunk
        stopped = cancel is not None and cancel.is_set()
        elapsed = time.perf_counter() - started
        yield SynthesisFinished("cancelled" if stopped else "done", made, audio_s, elapsed)

    def unload(self) -> None:
        self._remote.close()
        self._voices = []

    def memory_footprint(self) -> MemoryFootprint:
        return MemoryFootprint()  # the server holds the model


def _chunk(index: int, text: str, data: bytes, server: ServerConfig) -> AudioChunk:
    """A WAV answer (16-bit, mono or the first channel) or raw 16-bit 24 kHz PCM."""
    if data[:4] != b"RIFF":
        if data[:3] == b"ID3" or data[:4] in (b"OggS", b"fLaC") or data[:2] == b"\xff\xfb":
            raise GenerationError(
                f"{server.name} answered in a compressed format although WAV was asked for. "
                "Check the server's response_format support."
            )
        return AudioChunk(index, text, data[: len(data) // 2 * 2], PCM_RATE, "int16")
    try:
        with wave.open(io.BytesIO(data)) as audio:
            width, channels, rate = audio.getsampwidth(), audio.getnchannels(), audio.getframerate()
            frames = audio.readframes(audio.getnframes())
    except (wave.Error, EOFError) as error:
        raise GenerationError(f"{server.name} sent audio this app cannot read ({error}).") from None
    if width != 2:
        raise GenerationError(f"{server.name} sent {8 * width}-bit audio; 16-bit WAV is read.")
    if channels > 1:
        import numpy as np

        frames = np.frombuffer(frames, dtype="<i2")[::channels].tobytes()
    return AudioChunk(index, text, frames, rate, "int16")


def _listed_voices(client: httpx.Client, server: ServerConfig, model: str) -> list[Voice]:
    """`GET /v1/audio/voices` where offered: a list of ids, or of objects with `voice_id` /
    `id` / `name` (and `language`, `gender` where given); empty where the server has none."""
    try:
        response = send(client, server, "GET", "audio/voices", params={"model": model})
    except Exception:  # a server without the route may close the connection: no voices listed
        return []
    if response.status_code != 200:
        return []
    try:
        payload: Any = response.json()
    except ValueError:
        return []
    if isinstance(payload, dict):
        payload = payload.get("voices") or payload.get("data") or []
    voices: list[Voice] = []
    for item in payload if isinstance(payload, list) else []:
        if isinstance(item, str):
            voices.append(voice_info(item))
        elif isinstance(item, dict):
            found = item.get("voice_id") or item.get("id") or item.get("name")
            if not found:
                continue
            guess = voice_info(str(found))
            gender = str(item.get("gender") or guess.gender).lower()
            voices.append(
                Voice(
                    str(found),
                    str(item.get("language") or guess.language),
                    gender if gender in ("female", "male") else "unknown",  # type: ignore[arg-type]
                    str(item.get("name") or ""),
                )
            )
    return voices
