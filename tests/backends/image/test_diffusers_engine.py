"""The diffusers engine against a real (tiny) pipeline: progress, cancel, seeds, errors."""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from backends.base import ModelSpec
from backends.errors import BackendError, CorruptModel, ModelNotFound, UnsupportedModel
from backends.image.diffusers_engine import DiffusersEngine
from backends.image.protocol import (
    GenerationCancelled,
    ImageLoadOptions,
    ImageRequest,
    ImageResult,
    ImageStep,
)

pytestmark = pytest.mark.slow

REQUEST = ImageRequest(prompt="a red cat", steps=4, width=64, height=64, seed=7)


@pytest.fixture(scope="module")
def engine(tiny_sd_spec: ModelSpec) -> DiffusersEngine:
    engine = DiffusersEngine()
    engine.load(tiny_sd_spec, ImageLoadOptions())
    yield engine
    engine.unload()


def _image(engine: DiffusersEngine, request: ImageRequest) -> np.ndarray:
    results = [e for e in engine.generate(request) if isinstance(e, ImageResult)]
    assert len(results) == 1
    return np.asarray(results[0].image)


def test_steps_then_one_image(engine: DiffusersEngine) -> None:
    events = list(engine.generate(REQUEST))

    steps = [e for e in events if isinstance(e, ImageStep)]
    assert [(s.step, s.total) for s in steps] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert steps[0].steps_per_s is None and steps[-1].steps_per_s > 0
    assert isinstance(events[-1], ImageResult)
    assert events[-1].image.size == (64, 64)
    assert events[-1].sampler == "DDIM"  # the A1111 name, as the PNG and the form say it


def test_same_seed_same_pixels_other_seed_other_pixels(engine: DiffusersEngine) -> None:
    first = _image(engine, REQUEST)
    again = _image(engine, REQUEST)
    other = _image(engine, replace(REQUEST, seed=8))

    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_cancel_stops_within_one_step_and_returns_no_image(engine: DiffusersEngine) -> None:
    cancel = threading.Event()
    seen: list[int] = []
    with pytest.raises(GenerationCancelled):
        for event in engine.generate(replace(REQUEST, steps=10), cancel):
            assert not isinstance(event, ImageResult)
            seen.append(event.step)
            if event.step == 3:
                cancel.set()

    assert seen[-1] <= 4  # the step running when cancel was set is the last one
    assert len(_image(engine, REQUEST)) == 64  # and the pipeline still works


def test_scheduler_choice_is_used(engine: DiffusersEngine) -> None:
    caps = engine.capabilities()
    assert "Euler" in caps.schedulers
    events = list(engine.generate(replace(REQUEST, scheduler="Euler")))

    assert events[-1].sampler == "Euler"
    # a diffusers class name (older gallery entries) still means the same sampler
    events = list(engine.generate(replace(REQUEST, scheduler="EulerDiscreteScheduler")))
    assert events[-1].sampler == "Euler"
    assert engine.capabilities().size_multiple == 8
    with pytest.raises(BackendError, match="cannot use the sampler"):
        list(engine.generate(replace(REQUEST, scheduler="NoSuchScheduler")))


def test_samplers_go_by_a1111_names_and_every_one_offered_makes_an_image(
    engine: DiffusersEngine,
) -> None:
    """EDMEulerScheduler was offered (a "compatible" class) and failed every job with a
    TypeError; now only names users know are offered, each checked to run."""
    offered = engine.capabilities().schedulers

    assert {"Euler a", "Euler", "DDIM", "DPM++ 2M", "DPM++ 2M Karras", "UniPC"} <= set(offered)
    assert not [name for name in offered if name.endswith("Scheduler")]
    for name in offered:
        events = list(engine.generate(replace(REQUEST, scheduler=name, steps=4)))
        assert isinstance(events[-1], ImageResult), name
        assert events[-1].sampler == name  # Karras and SDE variants included
    back = list(engine.generate(REQUEST))  # the model's own again
    assert back[-1].sampler == "DDIM"
    # PLMS (SD 1.5's own scheduler) failed below 4 steps with a numpy shape error
    with pytest.raises(BackendError, match="PLMS sampler needs at least 4 steps"):
        list(engine.generate(replace(REQUEST, scheduler="PLMS", steps=2)))


def test_image_to_image_starts_from_a_picture(engine: DiffusersEngine, tmp_path: Path) -> None:
    from PIL import Image

    start = tmp_path / "start.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(start)
    request = replace(REQUEST, init_image=str(start), strength=0.5, steps=4)

    events = list(engine.generate(request))

    steps = [e for e in events if isinstance(e, ImageStep)]
    assert steps[-1].total == 2  # strength 0.5 of 4 steps
    assert events[-1].image.size == (64, 64)
    assert engine.capabilities().image_to_image


def test_broken_pipeline_folder_gives_a_clear_error(tiny_sd_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_sd_dir, broken)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"not weights")
    spec = ModelSpec(key="b", name="broken", engine="diffusers", path=str(broken))

    with pytest.raises(CorruptModel, match="broken") as caught:
        DiffusersEngine().load(spec, ImageLoadOptions())
    assert "download the model again" in caught.value.message.lower()


def test_unknown_pipeline_class_and_missing_folder(tiny_sd_dir: Path, tmp_path: Path) -> None:
    odd = tmp_path / "odd"
    shutil.copytree(tiny_sd_dir, odd)
    index = json.loads((odd / "model_index.json").read_text())
    index["_class_name"] = "FuturePipeline"
    (odd / "model_index.json").write_text(json.dumps(index))

    with pytest.raises(UnsupportedModel, match="no pipeline class FuturePipeline"):
        DiffusersEngine().load(ModelSpec("o", "odd", "diffusers", str(odd)), ImageLoadOptions())
    with pytest.raises(ModelNotFound, match="model_index.json"):
        DiffusersEngine().load(ModelSpec("t", "t", "diffusers", str(tmp_path)), ImageLoadOptions())


def test_cheap_previews_on_some_steps(engine: DiffusersEngine) -> None:
    steps = [e for e in engine.generate(replace(REQUEST, steps=10)) if isinstance(e, ImageStep)]

    with_preview = [s.step for s in steps if s.preview is not None]
    assert with_preview == [2, 4, 6, 8]  # every total/5 steps, never the last
    assert steps[1].preview.size == (32, 32)  # the latent grid (this tiny VAE scales by 2)
