"""The diffusers engine in its own process: same events, cancel within a step, exact unload."""

from __future__ import annotations

import threading

import pytest

from backends.base import ModelSpec
from backends.image.hosted import HostedImageEngine
from backends.image.protocol import (
    GenerationCancelled,
    ImageLoadOptions,
    ImageRequest,
    ImageResult,
    ImageStep,
)
from backends.registry import create_image_engine

pytestmark = pytest.mark.slow


def test_hosted_generate_cancel_and_unload(tiny_sd_spec: ModelSpec) -> None:
    engine = create_image_engine("diffusers")
    assert isinstance(engine, HostedImageEngine)
    messages: list[str] = []
    engine.load(tiny_sd_spec, ImageLoadOptions(), progress=lambda p: messages.append(p.message))
    pid = engine.host.pid
    assert messages[-1].endswith("is ready on cpu.")
    assert engine.capabilities().size_multiple == 8
    assert engine.host.rss_bytes() > 0

    events = list(engine.generate(ImageRequest("a red cat", steps=3, width=64, height=64)))
    assert [e.step for e in events if isinstance(e, ImageStep)] == [1, 2, 3]
    assert isinstance(events[-1], ImageResult) and events[-1].image.size == (64, 64)

    cancel = threading.Event()
    steps: list[int] = []
    with pytest.raises(GenerationCancelled):
        for event in engine.generate(ImageRequest("a", steps=500, width=64, height=64), cancel):
            steps.append(event.step)
            if event.step == 2:
                cancel.set()
    assert steps[-1] < 500 and engine.host.pid == pid  # stopped in the step; same process

    engine.unload()
    assert not engine.host.alive  # the process is gone, and every byte with it
