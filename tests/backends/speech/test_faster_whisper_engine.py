"""faster-whisper engine: segments stream with timestamps, cancel stops, errors are clear."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.errors import AudioError, ModelNotFound, UnsupportedModel
from backends.speech.faster_whisper_engine import (
    FasterWhisperEngine,
    resolve_compute_type,
)
from backends.speech.protocol import (
    Segment,
    SpeechLoadOptions,
    TranscribeOptions,
    TranscriptionFinished,
    TranscriptionStarted,
)

pytestmark = pytest.mark.slow
ENGLISH = TranscribeOptions(language="en", beam_size=1)


@pytest.fixture
def engine(tiny_whisper_spec: ModelSpec) -> FasterWhisperEngine:
    engine = FasterWhisperEngine()
    engine.load(tiny_whisper_spec, SpeechLoadOptions(device="cpu", cpu_threads=1))
    yield engine
    engine.unload()


def test_defaults_per_device() -> None:
    assert resolve_compute_type("default", "cpu") == "int8"
    assert resolve_compute_type("default", "cuda") == "float16"
    assert resolve_compute_type("float32", "cuda") == "float32"


def test_cpu_load_uses_int8(engine: FasterWhisperEngine) -> None:
    assert engine.loaded
    assert (engine.device, engine.compute_type) == ("cpu", "int8")
    assert engine.memory_footprint().ram_bytes > 0


def test_segments_arrive_in_order_with_increasing_timestamps(
    engine: FasterWhisperEngine, long_wav: Path
) -> None:
    events = list(engine.transcribe(str(long_wav), ENGLISH))

    started, *middle, finished = events
    assert isinstance(started, TranscriptionStarted)
    assert started.language == "en"
    assert started.duration_s == pytest.approx(65, abs=5)
    segments = [e for e in middle if isinstance(e, Segment)]
    assert len(segments) == len(middle) >= 3  # one per 30 s window at least
    assert [s.index for s in segments] == list(range(len(segments)))
    starts = [s.start for s in segments]
    assert starts == sorted(starts)
    assert starts[-1] > 30  # the later windows were decoded too
    assert all(0 <= s.start <= s.end <= started.duration_s for s in segments)
    assert isinstance(finished, TranscriptionFinished)
    assert (finished.reason, finished.segments) == ("done", len(segments))
    assert finished.real_time_factor is not None


def test_numpy_audio_is_accepted(engine: FasterWhisperEngine, spoken_wav: Path) -> None:
    from tests.fixtures.tiny_whisper import read_wav

    events = list(engine.transcribe(read_wav(spoken_wav), ENGLISH))

    assert isinstance(events[-1], TranscriptionFinished)
    assert events[-1].audio_s == pytest.approx(len(read_wav(spoken_wav)) / 16_000)


def test_cancel_stops_between_segments(engine: FasterWhisperEngine, long_wav: Path) -> None:
    cancel = threading.Event()
    seen: list[Segment] = []
    finished = None
    for event in engine.transcribe(str(long_wav), ENGLISH, cancel=cancel):
        if isinstance(event, Segment):
            seen.append(event)
            cancel.set()
        if isinstance(event, TranscriptionFinished):
            finished = event

    assert len(seen) == 1
    assert finished is not None
    assert (finished.reason, finished.segments) == ("cancelled", 1)


def test_missing_and_unreadable_audio_say_so(engine: FasterWhisperEngine, tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="There is no file at"):
        list(engine.transcribe(str(tmp_path / "nope.wav"), ENGLISH))
    junk = tmp_path / "notes.wav"
    junk.write_text("this is not audio")
    with pytest.raises(AudioError, match="Could not decode .*notes.wav"):
        list(engine.transcribe(str(junk), ENGLISH))


def test_incomplete_model_folder_names_the_missing_files(
    tiny_whisper_spec: ModelSpec, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "whisper"
    shutil.copytree(Path(tiny_whisper_spec.path or ""), copy)
    (copy / "tokenizer.json").unlink()

    with pytest.raises(UnsupportedModel, match="tokenizer.json missing"):
        FasterWhisperEngine().load(replace(tiny_whisper_spec, path=str(copy)), SpeechLoadOptions())
    with pytest.raises(ModelNotFound, match="Download a faster-whisper model"):
        FasterWhisperEngine().load(
            replace(tiny_whisper_spec, path=str(tmp_path / "gone")), SpeechLoadOptions()
        )


def test_vad_filter_skips_the_silence(engine: FasterWhisperEngine, long_wav: Path) -> None:
    """Silero VAD (bundled with faster-whisper, no download) drops the 56 s of silence."""
    options = TranscribeOptions(language="en", beam_size=1, vad_filter=True)
    started = next(iter(engine.transcribe(str(long_wav), options)))

    assert isinstance(started, TranscriptionStarted)
    assert started.duration_s == pytest.approx(65, abs=5)
    assert started.duration_kept_s < 20  # about three times the spoken sentence


def test_an_unknown_language_is_not_an_audio_problem(
    engine: FasterWhisperEngine, spoken_wav: Path
) -> None:
    """Before: faster-whisper's ValueError became "Could not decode … convert it first"."""
    from backends.errors import UnsupportedOption

    with pytest.raises(UnsupportedOption) as caught:
        list(engine.transcribe(str(spoken_wav), replace(ENGLISH, language="xx")))
    assert "not a language Whisper knows" in caught.value.message
    assert not isinstance(caught.value, AudioError)


def test_a_stopped_run_reports_the_audio_its_segments_cover(
    engine: FasterWhisperEngine, long_wav: Path
) -> None:
    cancel = threading.Event()
    events = []
    for event in engine.transcribe(str(long_wav), ENGLISH, cancel=cancel):
        events.append(event)
        if isinstance(event, Segment):
            cancel.set()
    segment, finished = events[1], events[-1]
    assert isinstance(segment, Segment) and isinstance(finished, TranscriptionFinished)
    assert finished.reason == "cancelled"
    assert finished.audio_s == segment.end > 0
