"""Kokoro in its own process: the same chunks as in-process, cancel, a crash, unload."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from backends.base import ModelSpec
from backends.host.crash import EngineCrashed
from backends.registry import create_tts_engine
from backends.speech.synthesis import (
    AudioChunk,
    SynthesisFinished,
    SynthesisOptions,
    TtsLoadOptions,
)

pytestmark = pytest.mark.slow
TEXT = "First sentence. Second one. And the third."
ONE_THREAD = TtsLoadOptions(cpu_threads=1)


def test_hosted_synthesis_matches_in_process(tiny_kokoro_spec: ModelSpec) -> None:
    local = create_tts_engine("kokoro", hosted=False)
    hosted = create_tts_engine("kokoro")
    assert type(hosted).__name__ == "HostedTtsEngine"
    try:
        local.load(tiny_kokoro_spec, ONE_THREAD)
        hosted.load(tiny_kokoro_spec, ONE_THREAD)
        assert hosted.voices() == local.voices() and hosted.voices()
        assert hosted.memory_footprint().ram_bytes > 0
        ours = list(hosted.synthesize(TEXT, "af_test", SynthesisOptions()))
        theirs = list(local.synthesize(TEXT, "af_test", SynthesisOptions()))
        assert ours[:-1] == theirs[:-1]  # started and every chunk, PCM byte for byte
        assert isinstance(ours[-1], SynthesisFinished) and ours[-1].chunks == 3
    finally:
        local.unload()
        hosted.unload()
    assert not hosted.loaded and not hosted.host.alive  # type: ignore[attr-defined]


def test_hosted_cancel_and_crash(tiny_kokoro_spec: ModelSpec) -> None:
    hosted = create_tts_engine("kokoro")
    hosted.load(tiny_kokoro_spec, ONE_THREAD)
    try:
        cancel = threading.Event()
        events = []
        for event in hosted.synthesize(TEXT, "af_test", SynthesisOptions(), cancel=cancel):
            events.append(event)
            if isinstance(event, AudioChunk):
                cancel.set()
        assert sum(isinstance(e, AudioChunk) for e in events) == 1
        assert isinstance(events[-1], SynthesisFinished)
        assert (events[-1].reason, events[-1].chunks) == ("cancelled", 1)

        os.kill(hosted.host.pid, signal.SIGKILL)  # type: ignore[attr-defined]
        # A request that meets the dying host says what happened (or, once the death is
        # known, loads the model in a new host); the one after it speaks either way.
        try:
            list(hosted.synthesize(TEXT, "af_test", SynthesisOptions()))
        except EngineCrashed as crash:
            assert "SIGKILL" in crash.message
        again = list(hosted.synthesize(TEXT, "af_test", SynthesisOptions()))
        assert isinstance(again[-1], SynthesisFinished) and again[-1].reason == "done"
    finally:
        hosted.unload()
