"""The speech engine in its own process: the same events as in-process, cancel, unload.

The tiny random Whisper falls back to sampling, so its words differ run to run; the tests
compare the shape of the stream and the audio length, not the words."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.registry import create_speech_engine
from backends.speech.protocol import (
    Segment,
    SpeechLoadOptions,
    TranscribeOptions,
    TranscriptionFinished,
)

pytestmark = pytest.mark.slow
ENGLISH = TranscribeOptions(language="en", beam_size=1)
CPU = SpeechLoadOptions(device="cpu", cpu_threads=1)


def test_hosted_transcription_streams_like_in_process(
    tiny_whisper_spec: ModelSpec, spoken_wav: Path
) -> None:
    from tests.fixtures.tiny_whisper import read_wav

    local = create_speech_engine("faster_whisper", hosted=False)
    hosted = create_speech_engine("faster_whisper")
    assert type(hosted).__name__ == "HostedSpeechEngine"
    try:
        local.load(tiny_whisper_spec, CPU)
        hosted.load(tiny_whisper_spec, CPU)
        assert hosted.runtime  # type: ignore[attr-defined] == "cpu int8"
        assert hosted.memory_footprint().ram_bytes > 0
        for audio in (str(spoken_wav), read_wav(spoken_wav)):  # a path, and samples
            ours = list(hosted.transcribe(audio, ENGLISH))
            theirs = list(local.transcribe(audio, ENGLISH))
            assert [type(e) for e in (ours[0], ours[-1])] == [
                type(e) for e in (theirs[0], theirs[-1])
            ]
            assert ours[0] == theirs[0]  # TranscriptionStarted: language and duration
            assert any(isinstance(e, Segment) for e in ours)
            assert ours[-1].reason == "done"  # type: ignore[union-attr]
    finally:
        local.unload()
        hosted.unload()
    assert not hosted.loaded and not hosted.host.alive  # type: ignore[attr-defined]


def test_hosted_cancel_stops_between_segments(tiny_whisper_spec: ModelSpec, long_wav: Path) -> None:
    hosted = create_speech_engine("faster_whisper")
    hosted.load(tiny_whisper_spec, CPU)
    try:
        cancel = threading.Event()
        events = []
        for event in hosted.transcribe(str(long_wav), ENGLISH, cancel=cancel):
            events.append(event)
            if isinstance(event, Segment):
                cancel.set()
        finished = events[-1]
        assert isinstance(finished, TranscriptionFinished)
        assert (finished.reason, finished.segments) == ("cancelled", 1)
        assert sum(isinstance(e, Segment) for e in events) == 1
        # The audio the kept segment covers, not 0 s (the stop used to report "00:00.0").
        assert finished.audio_s == events[1].end > 0  # type: ignore[union-attr]
        again = list(hosted.transcribe(str(long_wav), ENGLISH))  # the host is still usable
        assert isinstance(again[-1], TranscriptionFinished) and again[-1].reason == "done"
    finally:
        hosted.unload()
