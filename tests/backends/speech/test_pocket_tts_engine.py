"""Pocket TTS through the real pocket-tts library, on a tiny model with random weights."""

from __future__ import annotations

import pickle
import threading
import wave
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.errors import ModelNotFound, UnsupportedModel, UnsupportedOption
from backends.speech.kokoro_engine import EmptyText, UnknownVoice
from backends.speech.pocket_tts_engine import PocketTtsEngine
from backends.speech.synthesis import (
    AudioChunk,
    SynthesisFinished,
    SynthesisOptions,
    SynthesisStarted,
    TtsLoadOptions,
    Voice,
)
from backends.speech.text_language import WrongLanguage

pytestmark = pytest.mark.slow
TEXT = "Hello there. This is the second sentence! And a third one?"


@pytest.fixture(scope="module")
def engine(tiny_pocket_spec: ModelSpec) -> PocketTtsEngine:
    engine = PocketTtsEngine()
    engine.load(tiny_pocket_spec, TtsLoadOptions(cpu_threads=1))
    yield engine
    engine.unload()


def test_voices_come_from_the_model_folder(engine: PocketTtsEngine) -> None:
    assert engine.voices() == [Voice("tone", "en")]
    assert engine.memory_footprint().ram_bytes > 0


def test_chunks_stream_in_sentence_order_at_24_khz(engine: PocketTtsEngine) -> None:
    events = list(engine.synthesize(TEXT, "tone", SynthesisOptions()))
    started, chunks, finished = events[0], events[1:-1], events[-1]
    assert isinstance(started, SynthesisStarted)
    assert (started.sample_rate, started.pieces) == (24_000, 3)
    assert chunks and all(isinstance(c, AudioChunk) for c in chunks)
    assert [c.index for c in chunks] == sorted(c.index for c in chunks)
    assert {c.index for c in chunks} == {0, 1, 2}
    assert {c.text for c in chunks if c.index == 1} == {"This is the second sentence!"}
    assert all(c.sample_rate == 24_000 and c.frames % 1920 == 0 for c in chunks)
    assert isinstance(finished, SynthesisFinished)
    assert (finished.reason, finished.chunks) == ("done", 3)
    assert finished.audio_s == pytest.approx(sum(c.duration_s for c in chunks))
    assert pickle.loads(pickle.dumps(chunks[0])) == chunks[0]  # travels from a host


def test_cancel_stops_within_a_chunk(engine: PocketTtsEngine) -> None:
    cancel = threading.Event()
    events = []
    for event in engine.synthesize(TEXT, "tone", SynthesisOptions(), cancel=cancel):
        events.append(event)
        if isinstance(event, AudioChunk):
            cancel.set()
    assert sum(isinstance(e, AudioChunk) for e in events) == 1
    assert isinstance(events[-1], SynthesisFinished) and events[-1].reason == "cancelled"


def test_a_wav_path_is_cloned(engine: PocketTtsEngine, tiny_pocket_dir: Path) -> None:
    clone = str(tiny_pocket_dir / "voices" / "tone.wav")
    events = list(engine.synthesize("Say it again.", clone, SynthesisOptions()))
    assert any(isinstance(e, AudioChunk) for e in events)


def test_clear_errors(engine: PocketTtsEngine, tmp_path: Path) -> None:
    with pytest.raises(EmptyText):
        list(engine.synthesize("  \n ", "tone", SynthesisOptions()))
    with pytest.raises(UnknownVoice, match="Its voices: tone"):
        list(engine.synthesize(TEXT, "alba", SynthesisOptions()))
    with pytest.raises(UnsupportedOption, match="cannot change speed"):
        list(engine.synthesize(TEXT, "tone", SynthesisOptions(speed=1.5)))
    with pytest.raises(WrongLanguage, match="Japanese kana"):
        list(engine.synthesize("こんにちは、元気ですか。", "tone", SynthesisOptions()))


def test_written_file_is_valid_wav(engine: PocketTtsEngine, tmp_path: Path) -> None:
    from backends.speech.playback import write_audio

    chunks = (e for e in engine.synthesize(TEXT, "tone", SynthesisOptions())
              if isinstance(e, AudioChunk))  # fmt: skip
    written, _ = write_audio(tmp_path / "pocket.wav", chunks)
    with wave.open(str(written)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24_000, 1, 2)
        assert wav.getnframes() > 0


def test_missing_files_say_what_to_download(tmp_path: Path) -> None:
    engine = PocketTtsEngine()
    with pytest.raises(ModelNotFound, match="kyutai/pocket-tts"):
        engine.load(ModelSpec(key="x", name="x", engine="pocket_tts", path=str(tmp_path / "no")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UnsupportedModel, match="not a Pocket TTS model"):
        engine.load(ModelSpec(key="y", name="y", engine="pocket_tts", path=str(tmp_path / "empty")))
    snapshot = tmp_path / "snapshot" / "languages" / "english"
    snapshot.mkdir(parents=True)
    with pytest.raises(ModelNotFound, match="not on this machine"):
        engine.load(
            ModelSpec(key="z", name="z", engine="pocket_tts", path=str(snapshot.parent.parent))
        )
    assert not engine.loaded


def test_hosted_pocket_streams_and_cancels(tiny_pocket_spec: ModelSpec) -> None:
    from backends.registry import create_tts_engine

    hosted = create_tts_engine("pocket_tts")
    assert type(hosted).__name__ == "HostedTtsEngine"
    hosted.load(tiny_pocket_spec, TtsLoadOptions(cpu_threads=1))
    try:
        assert hosted.voices() == [Voice("tone", "en")]
        events = list(hosted.synthesize(TEXT, "tone", SynthesisOptions()))
        assert {e.index for e in events if isinstance(e, AudioChunk)} == {0, 1, 2}
        cancel = threading.Event()
        stopped = []
        for event in hosted.synthesize(TEXT, "tone", SynthesisOptions(), cancel=cancel):
            stopped.append(event)
            if isinstance(event, AudioChunk):
                cancel.set()
        assert sum(isinstance(e, AudioChunk) for e in stopped) == 1
        assert isinstance(stopped[-1], SynthesisFinished) and stopped[-1].reason == "cancelled"
    finally:
        hosted.unload()
