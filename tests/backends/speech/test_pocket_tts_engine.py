"""Pocket TTS through the real pocket-tts library, on a tiny model with random weights."""

from __future__ import annotations

import pickle
import threading
import wave
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.errors import ModelNotFound, UnsupportedModel, UnsupportedOption
from backends.speech.pocket_tts_engine import PocketTtsEngine
from backends.speech.synthesis import (
    AudioChunk,
    EmptyText,
    SynthesisFinished,
    SynthesisOptions,
    SynthesisStarted,
    TtsLoadOptions,
    UnknownVoice,
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


def test_pocket_models_are_found_in_model_dirs_and_the_cache(
    tiny_pocket_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from backends.models.catalog import discover_models, scan_hf_cache
    from backends.settings import load_settings
    from backends.speech.tts_manager import TtsManager
    from tests.backends.models.test_catalog import _fake_cache_repo

    models = tmp_path / "models"
    shutil.copytree(tiny_pocket_dir, models / "my-pocket")
    settings = load_settings(model_dirs=[models])
    found = [s for s in discover_models(settings) if s.engine == "pocket_tts"]
    assert [s.name for s in found] == ["my-pocket"] and found[0].size_bytes
    manager = TtsManager(settings, discover=lambda: found, output_dir=tmp_path / "out")
    assert manager.default_spec().name == "my-pocket"
    named = load_settings(model_dirs=[], tts={"model": str(models / "my-pocket")})
    assert TtsManager(named, discover=list, output_dir=tmp_path).default_spec().engine == (
        "pocket_tts"
    )

    hf_home = tmp_path / "hf"
    files = {"languages/english/model.safetensors": b"x", "languages/english/tokenizer.json": b"{}"}
    _fake_cache_repo(hf_home, "kyutai/pocket-tts-without-voice-cloning", files)
    specs = {s.key: s for s in scan_hf_cache(hf_home / "hub")}
    assert specs["hf:kyutai/pocket-tts-without-voice-cloning"].engine == "pocket_tts"


def test_kyutai_snapshot_resolves_from_the_cache_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The package's english config names hf:// files at pinned revisions: they resolve to
    the cached snapshot (another revision), the built-in voices to their cached states, and
    nothing is fetched (HF_ENDPOINT is a closed port in the tests)."""
    import huggingface_hub.constants
    import yaml

    from backends.speech.pocket_tts_model import locate
    from tests.backends.models.test_catalog import _fake_cache_repo

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    files = {
        "languages/english/model.safetensors": b"weights",
        "languages/english/tokenizer.json": b"{}",
        "languages/english/embeddings/alba.safetensors": b"state",
        "languages/english/embeddings/marius.safetensors": b"state",
    }
    snapshot = _fake_cache_repo(tmp_path / "hf", "kyutai/pocket-tts-without-voice-cloning", files)
    found = locate(snapshot, tmp_path / "scratch")
    assert (found.language, found.voice_cloning) == ("en", False)
    assert sorted(found.voices) == ["alba", "marius"]
    config = yaml.safe_load(found.config_path.read_text(encoding="utf-8"))
    assert Path(config["weights_path"]).read_bytes() == b"weights"
    assert Path(config["flow_lm"]["lookup_table"]["tokenizer_path"]).read_bytes() == b"{}"
    assert "weights_path_without_voice_cloning" not in config


def test_a_recording_named_in_the_settings_is_the_voice(
    tiny_pocket_spec: ModelSpec, tmp_path: Path
) -> None:
    from backends.settings import load_settings
    from backends.speech.tts_manager import TtsManager
    from tests.fixtures.fake_sounddevice import SPEAKERS, FakeSoundDevice

    clone = str(Path(tiny_pocket_spec.path or "") / "voices" / "tone.wav")
    settings = load_settings(tts={"voice": clone})
    device = FakeSoundDevice(devices=[SPEAKERS])
    tts = TtsManager(
        settings,
        engine_factory=lambda name: PocketTtsEngine(),
        discover=lambda: [tiny_pocket_spec],
        sounddevice=device,  # type: ignore[arg-type]
        output_dir=tmp_path,
    )
    try:
        spoken = tts.speak("Hello there. Goodbye now.")
        assert tts.default_voice() == clone
        assert spoken.synthesis is not None and spoken.synthesis.chunks == 2
        assert device.outputs and device.outputs[0].samples.size > 0
    finally:
        tts.unload()
