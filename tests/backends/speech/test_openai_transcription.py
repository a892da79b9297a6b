"""Remote speech to text against a local server speaking /v1/audio/transcriptions."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from backends.errors import UnsupportedModel
from backends.settings import load_settings
from backends.speech.manager import SpeechManager
from backends.speech.openai_transcription_engine import OpenAITranscriptionEngine
from backends.speech.protocol import (
    Segment,
    SpeechLoadOptions,
    TranscribeOptions,
    TranscriptionFinished,
    TranscriptionStarted,
)
from tests.fixtures.openai_media_server import TRANSCRIPT, OpenAIMediaServer


def _loaded(server: OpenAIMediaServer) -> OpenAITranscriptionEngine:
    engine = OpenAITranscriptionEngine()
    engine.load(server.spec("whisper-1", "openai_stt"), SpeechLoadOptions())
    return engine


def test_a_file_gives_timed_segments(media_server: OpenAIMediaServer, tmp_path: Path) -> None:
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"RIFF....WAVEfmt ")
    events = list(_loaded(media_server).transcribe(str(audio), TranscribeOptions(language="en")))
    assert isinstance(events[0], TranscriptionStarted) and events[0].duration_s == 3.2
    segments = [e for e in events if isinstance(e, Segment)]
    assert [(s.start, s.end, s.text) for s in segments] == TRANSCRIPT
    assert isinstance(events[-1], TranscriptionFinished) and events[-1].reason == "done"
    body = next(b for m, p, _, b in media_server.requests if p == "/v1/audio/transcriptions")
    assert b'name="response_format"\r\n\r\nverbose_json' in body
    assert b'filename="a.wav"' in body


def test_a_recording_goes_as_a_wav(media_server: OpenAIMediaServer) -> None:
    samples = np.zeros(16_000, dtype=np.float32)
    events = list(_loaded(media_server).transcribe(samples, TranscribeOptions()))
    assert isinstance(events[-1], TranscriptionFinished) and events[-1].segments == 2
    body = next(b for m, p, _, b in media_server.requests if p == "/v1/audio/transcriptions")
    assert b'filename="recording.wav"' in body and b"RIFF" in body


def test_push_to_talk_path_through_the_manager(media_server: OpenAIMediaServer) -> None:
    """speech.model naming a server's model makes the manager use it (push-to-talk and the
    Speech screen both transcribe through the manager)."""
    settings = load_settings(
        servers=[{"name": "lab", "base_url": media_server.base_url}],
        speech={"model": "openai_stt:lab/whisper-1"},
    )
    manager = SpeechManager(settings, discover=lambda: [])
    text = "".join(
        e.text for e in manager.transcribe(np.zeros(8000, np.float32)) if isinstance(e, Segment)
    )
    assert text == "".join(t for _, _, t in TRANSCRIPT)
    assert manager.label() == "whisper-1 · on lab"


def test_cancel_returns_at_once(media_server: OpenAIMediaServer, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"x")
    events = list(_loaded(media_server).transcribe(str(audio), TranscribeOptions(), cancel))
    assert isinstance(events[-1], TranscriptionFinished) and events[-1].reason == "cancelled"


def test_a_model_the_server_lacks_is_named(media_server: OpenAIMediaServer) -> None:
    with pytest.raises(UnsupportedModel, match="does not have 'whisper-large'"):
        OpenAITranscriptionEngine().load(
            media_server.spec("whisper-large", "openai_stt"), SpeechLoadOptions()
        )
