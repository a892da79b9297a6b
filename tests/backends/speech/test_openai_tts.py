"""Remote text to speech against a local server speaking /v1/audio/speech and
/v1/audio/voices: sentences in order as real WAVs, voices listed, the manager plays a
server's voice named in [tts], and the errors a user can act on."""

from __future__ import annotations

import threading

import pytest

from backends.errors import BackendError, UnsupportedModel
from backends.models.server_models import discover_server_models
from backends.settings import load_settings
from backends.speech.openai_tts import OpenAITtsEngine
from backends.speech.synthesis import (
    AudioChunk,
    SynthesisFinished,
    SynthesisOptions,
    SynthesisStarted,
    TtsLoadOptions,
)
from backends.speech.tts_manager import TtsManager
from tests.fixtures.fake_sounddevice import SPEAKERS, FakeSoundDevice
from tests.fixtures.openai_media_server import SPEECH_RATE, OpenAIMediaServer

TEXT = "Hello from the server. A second sentence here!"


def _loaded(server: OpenAIMediaServer) -> OpenAITtsEngine:
    engine = OpenAITtsEngine()
    engine.load(server.spec("kokoro", "openai_tts"), TtsLoadOptions())
    return engine


def test_sentences_come_back_in_order_as_wav_chunks(media_server: OpenAIMediaServer) -> None:
    engine = _loaded(media_server)
    assert [v.id for v in engine.voices()] == ["af_heart", "am_michael"]
    assert engine.voices()[0].language.startswith("en")
    events = list(engine.synthesize(TEXT, "am_michael", SynthesisOptions(speed=2.0)))
    assert isinstance(events[0], SynthesisStarted) and events[0].pieces == 2
    chunks = [e for e in events if isinstance(e, AudioChunk)]
    assert [c.text for c in chunks] == ["Hello from the server.", "A second sentence here!"]
    assert all(c.sample_rate == SPEECH_RATE and c.frames > 0 for c in chunks)
    assert chunks[0].duration_s == pytest.approx(0.05 * len(chunks[0].text) / 2, abs=0.01)
    assert isinstance(events[-1], SynthesisFinished) and events[-1].reason == "done"
    bodies = [b for m, p, _, b in media_server.requests if p == "/v1/audio/speech"]
    assert bodies[0] == {
        "model": "kokoro",
        "input": "Hello from the server.",
        "voice": "am_michael",
        "response_format": "wav",
        "speed": 2.0,
    }


def test_cancel_stops_between_sentences(media_server: OpenAIMediaServer) -> None:
    engine = _loaded(media_server)
    cancel = threading.Event()
    events = []
    for event in engine.synthesize(TEXT, "af_heart", SynthesisOptions(), cancel):
        events.append(event)
        if isinstance(event, AudioChunk):
            cancel.set()
    assert isinstance(events[-1], SynthesisFinished) and events[-1].reason == "cancelled"
    assert events[-1].chunks == 1


def test_errors_say_what_to_do(media_server: OpenAIMediaServer) -> None:
    engine = _loaded(media_server)
    with pytest.raises(BackendError, match="no voice 'nobody'.*af_heart, am_michael"):
        list(engine.synthesize(TEXT, "nobody", SynthesisOptions()))
    with pytest.raises(BackendError, match="no text to read aloud"):
        list(engine.synthesize("  \n ", "af_heart", SynthesisOptions()))
    with pytest.raises(UnsupportedModel, match="does not have 'missing-tts'"):
        OpenAITtsEngine().load(media_server.spec("missing-tts", "openai_tts"), TtsLoadOptions())


def test_the_probe_lists_the_server_voice_model(media_server: OpenAIMediaServer) -> None:
    settings = load_settings(servers=[{"name": "lab", "base_url": media_server.base_url}])
    specs, failures = discover_server_models(settings)
    assert not failures
    assert "openai_tts:lab/kokoro" in [s.key for s in specs if s.engine == "openai_tts"]


def test_the_manager_speaks_with_the_server_voice_the_settings_name(
    media_server: OpenAIMediaServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(
        servers=[{"name": "lab", "base_url": media_server.base_url}],
        tts={"model": "openai_tts:lab/kokoro", "voice": "am_michael"},
    )
    device = FakeSoundDevice(devices=[SPEAKERS])
    tts = TtsManager(settings, discover=lambda: [], sounddevice=device, output_dir=tmp_path)  # type: ignore[arg-type]
    spoken = tts.speak(TEXT)
    assert tts.label() == "kokoro" and tts.default_voice() == "am_michael"
    (stream,) = device.outputs
    assert stream.samplerate == SPEECH_RATE and stream.samples.size > 0
    assert spoken.synthesis is not None and spoken.synthesis.chunks == 2
    tts.unload()
