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
    PartialText,
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


def _stream_events(server: OpenAIMediaServer, style: str) -> list[object]:
    server.transcript_stream = style
    return list(_loaded(server).transcribe(np.zeros(16_000, np.float32), TranscribeOptions()))


def test_openai_text_deltas_grow_then_become_the_final_segment(
    media_server: OpenAIMediaServer,
) -> None:
    events = _stream_events(media_server, "openai")
    partials = [e.text for e in events if isinstance(e, PartialText)]
    assert partials[:2] == ["Hello", "Hello from"]
    assert partials[-1] == "Hello from the server. Second segment here."
    (segment,) = [e for e in events if isinstance(e, Segment)]
    assert segment.text == "Hello from the server. Second segment here."
    assert (segment.start, segment.end) == (0.0, 3.0)  # the usage's seconds
    assert isinstance(events[0], TranscriptionStarted) and events[0].duration_s == 1.0
    assert isinstance(events[-1], TranscriptionFinished) and events[-1].segments == 1
    body = next(b for m, p, _, b in media_server.requests if p == "/v1/audio/transcriptions")
    assert b'name="stream"\r\n\r\ntrue' in body


def test_speaches_segments_stream_with_their_times(media_server: OpenAIMediaServer) -> None:
    events = _stream_events(media_server, "speaches")
    segments = [e for e in events if isinstance(e, Segment)]
    assert [(s.index, s.start, s.end, s.text) for s in segments] == [
        (i, s, e, t) for i, (s, e, t) in enumerate(TRANSCRIPT)
    ]
    assert isinstance(events[0], TranscriptionStarted) and events[0].language == "english"
    assert isinstance(events[-1], TranscriptionFinished) and events[-1].reason == "done"


def test_a_server_that_refuses_streaming_is_asked_plainly_once(
    media_server: OpenAIMediaServer,
) -> None:
    media_server.transcript_stream = "refuse"
    engine = _loaded(media_server)
    for _ in range(2):
        events = list(engine.transcribe(np.zeros(8000, np.float32), TranscribeOptions()))
        assert [e.text for e in events if isinstance(e, Segment)] == [t for *_, t in TRANSCRIPT]
    bodies = [b for m, p, _, b in media_server.requests if p == "/v1/audio/transcriptions"]
    streamed = [b'name="stream"' in b for b in bodies]
    assert streamed == [True, False, False]  # refused once, then never asked again


def test_cancel_mid_stream_keeps_what_came(media_server: OpenAIMediaServer) -> None:
    media_server.transcript_stream = "speaches"
    media_server.hold_transcript = True
    cancel = threading.Event()
    events: list[object] = []
    for event in _loaded(media_server).transcribe(
        np.zeros(16_000, np.float32), TranscribeOptions(), cancel
    ):
        events.append(event)
        if isinstance(event, Segment):
            cancel.set()
    assert [e.text for e in events if isinstance(e, Segment)] == [TRANSCRIPT[0][2]]
    finished = events[-1]
    assert isinstance(finished, TranscriptionFinished) and finished.reason == "cancelled"
    assert finished.audio_s == TRANSCRIPT[0][1]


def test_out_of_memory_mid_stream_shows_the_servers_words(
    media_server: OpenAIMediaServer,
) -> None:
    from backends.errors import OutOfMemory

    media_server.transcript_stream, media_server.oom = "speaches", True
    seen: list[object] = []
    with pytest.raises(OutOfMemory, match="lab ran out of memory: CUDA error: out of memory"):
        for event in _loaded(media_server).transcribe(
            np.zeros(16_000, np.float32), TranscribeOptions()
        ):
            seen.append(event)
    assert [e.text for e in seen if isinstance(e, Segment)] == [TRANSCRIPT[0][2]]
