"""Cancel of an image job over a host when a step does not end: the job ends for the
caller at once, the host is killed after its grace and the model loaded again in a new
one in the background; the next job waits for that and makes an image; a reload that
failed is what the next job reports. The denoiser of the real tiny pipeline sleeps in
the host (tests/fixtures/slow_diffusers.py), standing in for a long native step."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.errors import ModelNotFound
from backends.image.hosted import HostedImageEngine
from backends.image.protocol import (
    GenerationCancelled,
    ImageLoadOptions,
    ImageRequest,
    ImageResult,
    ImageStep,
)
from backends.registry import create_image_engine
from tests.fixtures.slow_diffusers import slow_diffusers_spec, slow_prompt

__all__ = ["slow_diffusers_spec"]

pytestmark = pytest.mark.slow
STUCK = slow_prompt(3600)  # step 2 never ends while the test runs


@pytest.fixture
def engine(slow_diffusers_spec: ModelSpec) -> Iterator[HostedImageEngine]:
    engine = create_image_engine("slow_diffusers")
    assert isinstance(engine, HostedImageEngine)
    engine.load(slow_diffusers_spec, ImageLoadOptions())
    yield engine
    engine.unload()


def _cancel_in_step_two(engine: HostedImageEngine) -> list[int]:
    """Start a job whose second step never ends; cancel once step 1 is seen."""
    cancel = threading.Event()
    steps: list[int] = []
    with pytest.raises(GenerationCancelled, match="nothing was saved"):
        for event in engine.generate(ImageRequest(STUCK, steps=3, width=64, height=64), cancel):
            assert isinstance(event, ImageStep)
            steps.append(event.step)
            cancel.set()
    return steps


def test_a_step_that_never_ends_is_cancelled_and_the_next_job_makes_an_image(
    engine: HostedImageEngine, slow_diffusers_spec: ModelSpec
) -> None:
    first_pid = engine.host.pid
    hold = Path(f"{slow_diffusers_spec.path}.hold")
    hold.write_text("")  # the reload in the new host waits until the test lets it go

    assert _cancel_in_step_two(engine) == [1]
    # Ended for the caller while the old host was still in its step (or being killed)
    # and before the model was back in a new one.
    assert engine._settling is not None and not engine._settling.is_set()

    hold.unlink()
    events = list(engine.generate(ImageRequest("a cat", steps=2, width=64, height=64)))
    assert isinstance(events[-1], ImageResult) and events[-1].image.size == (64, 64)
    assert engine.host.pid != first_pid and engine.host.starts == 2  # killed and replaced


def test_a_reload_that_fails_after_the_kill_is_reported_by_the_next_job(
    engine: HostedImageEngine, slow_diffusers_spec: ModelSpec
) -> None:
    Path(f"{slow_diffusers_spec.path}.broken").write_text("")

    _cancel_in_step_two(engine)

    with pytest.raises(ModelNotFound, match="No pipeline at"):
        list(engine.generate(ImageRequest("a cat", steps=2, width=64, height=64)))
    Path(f"{slow_diffusers_spec.path}.broken").unlink()
    events = list(engine.generate(ImageRequest("a cat", steps=2, width=64, height=64)))
    assert isinstance(events[-1], ImageResult)  # the job after that loads it again
