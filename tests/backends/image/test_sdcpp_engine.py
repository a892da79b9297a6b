"""The stable-diffusion.cpp engine against the real `stable_diffusion_cpp` module.

No model small enough for CI exists for it (the library has fixed SD/SDXL/FLUX shapes, so a
tiny random checkpoint cannot load), so these tests check the adapter's contract: the real
library refuses a bad file without crashing the process, every keyword we pass exists in the
real signatures, and progress, cancel and errors behave as the protocol says (with a stand-in
that calls the progress callback the way the C library does).
"""

from __future__ import annotations

import ctypes
import inspect
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image

from backends.base import ModelSpec
from backends.errors import CorruptModel, ModelNotFound, UnsupportedModel
from backends.image.protocol import (
    GenerationCancelled,
    ImageLoadOptions,
    ImageRequest,
    ImageResult,
    ImageStep,
)
from backends.image.sdcpp_engine import StableDiffusionCppEngine

sd_cpp = pytest.importorskip("stable_diffusion_cpp")
REPO_ROOT = Path(__file__).resolve().parents[3]


def test_bad_files_get_clear_errors_and_the_process_survives(tmp_path: Path) -> None:
    """A GGUF header with no model behind it: the real library returns a null context, which
    it would free (and crash) at exit. Run in a child so a crash cannot take pytest down."""
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 64)
    script = (
        "from backends.base import ModelSpec\n"
        "from backends.image.sdcpp_engine import StableDiffusionCppEngine\n"
        "from backends.image.protocol import ImageLoadOptions\n"
        "try:\n"
        f"    StableDiffusionCppEngine().load(ModelSpec('k', 'n', 'sdcpp', {str(junk)!r}),"
        " ImageLoadOptions())\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, e)\n"
        "import gc; gc.collect()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("UnsupportedModel stable-diffusion.cpp could not load junk.gguf")


@pytest.mark.parametrize(
    ("name", "content", "error", "words"),
    [
        ("model.gguf", b"NOPE", CorruptModel, "not a GGUF file"),
        ("model.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{}", CorruptModel, "cut short"),
        ("model.ckpt", b"abc", CorruptModel, "not a PyTorch checkpoint"),
        ("model.bin", b"abc", UnsupportedModel, "loads .gguf, .safetensors and .ckpt"),
    ],
)
def test_files_are_checked_before_the_library_sees_them(
    tmp_path: Path, name: str, content: bytes, error: type, words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(error, match=words):
        StableDiffusionCppEngine().load(ModelSpec("k", "n", "sdcpp", str(path)), ImageLoadOptions())
    with pytest.raises(ModelNotFound):
        StableDiffusionCppEngine().load(
            ModelSpec("k", "n", "sdcpp", str(tmp_path / "gone.gguf")), ImageLoadOptions()
        )


class StandIn:
    """Calls progress_callback(step, steps, time) per step like the C library, from the
    calling thread, and can be held at a step. Its methods take the real signatures."""

    def __init__(self) -> None:
        self.model = object()
        self.release = threading.Event()
        self.hold_at: int | None = None
        self.finished = threading.Event()
        self.calls: list[dict] = []

    def generate_image(self, **kwargs):  # noqa: ANN003, ANN201
        inspect.signature(sd_cpp.StableDiffusion.generate_image).bind(None, **kwargs)
        self.calls.append(kwargs)
        steps = kwargs["sample_steps"]
        kwargs["progress_callback"](0, steps, 0.0)  # as the library: once before step 1
        for step in range(1, steps + 1):
            kwargs["progress_callback"](step, steps, 0.01)
            if step == self.hold_at:
                self.release.wait(10)
        self.finished.set()
        # As the library hands it back: RGB made RGBA, and `info` filled with its own
        # arguments and state, ctypes arrays among them (which cannot be pickled).
        image = Image.new("RGB", (kwargs["width"], kwargs["height"]), "blue").convert("RGBA")
        args = {k: v for k, v in kwargs.items() if k != "progress_callback"}
        image.info.update({**args, "custom_sigmas": (ctypes.c_float * 0)()})
        return [image]

    def close(self) -> None:
        pass


def _engine() -> tuple[StableDiffusionCppEngine, StandIn]:
    engine = StableDiffusionCppEngine()
    stand_in = StandIn()
    engine._sd = stand_in
    return engine, stand_in


def test_progress_then_one_image_with_real_keywords(tmp_path: Path) -> None:
    engine, stand_in = _engine()
    start = tmp_path / "start.png"
    Image.new("RGB", (64, 64)).save(start)
    request = ImageRequest(
        prompt="a cat",
        negative_prompt="dog",
        steps=4,
        cfg_scale=6.0,
        seed=9,
        width=64,
        height=64,
        scheduler="euler_a",
        init_image=str(start),
        strength=0.4,
    )

    events = list(engine.generate(request))

    assert [(e.step, e.total) for e in events if isinstance(e, ImageStep)] == [
        (1, 4),
        (2, 4),
        (3, 4),
        (4, 4),
    ]
    # its A1111 name, as the PNG and the form say it
    assert isinstance(events[-1], ImageResult) and events[-1].sampler == "Euler a"
    call = stand_in.calls[0]
    assert (call["seed"], call["sample_method"], call["strength"]) == (9, "euler_a", 0.4)
    assert engine.capabilities().size_multiple == 64


def test_the_picture_can_cross_to_the_app() -> None:
    """The library's image carries ctypes arrays in `info`: pickled by the engine host, it
    failed ("Can't pickle c_float_Array_0"), so no sd.cpp picture ever reached the app.
    The engine hands on a plain RGB copy (the pixels, nothing else)."""
    engine, _ = _engine()

    result = list(engine.generate(ImageRequest(prompt="a cat", steps=2, width=64, height=64)))[-1]

    assert isinstance(result, ImageResult)
    image = pickle.loads(pickle.dumps(result)).image
    assert (image.mode, image.size, image.info) == ("RGB", (64, 64), {})
    assert image.getpixel((3, 3)) == (0, 0, 255)


def test_steps_and_rate_count_from_the_first_step() -> None:
    """The library reports a "step 0" before the first step: it is no step the user sees,
    and the rate counts the steps after the first over their own time (as the diffusers
    engine does), not from step 0 (which halved it at 2 steps)."""
    engine, _ = _engine()

    events = list(engine.generate(ImageRequest(prompt="a cat", steps=4, width=64, height=64)))

    steps = [e for e in events if isinstance(e, ImageStep)]
    assert [e.step for e in steps] == [1, 2, 3, 4]
    last = steps[-1]
    assert last.steps_per_s == pytest.approx(3 / (last.elapsed_s - steps[0].elapsed_s), rel=1e-6)


def test_the_library_forgets_the_progress_callback_after_each_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The library keeps the last progress callback in a global after the wrapper freed it;
    the next model load in the process (a LoRA from another folder reopens the model) called
    it and died of SIGSEGV (seen with the full-shape checkpoint of bench/sdcpp_checkpoint.py;
    `python bench/sdcpp_image.py --runs 2` loads twice in one process). The engine clears it
    once the C call is over."""
    cleared: list[tuple[object, object]] = []
    monkeypatch.setattr(
        sd_cpp.stable_diffusion_cpp, "sd_set_progress_callback", lambda *a: cleared.append(a)
    )
    engine, stand_in = _engine()

    list(engine.generate(ImageRequest(prompt="a cat", steps=2, width=64, height=64)))

    assert stand_in.finished.is_set() and cleared == [(None, None)]


def test_constructor_keywords_exist_in_the_real_library() -> None:
    signature = inspect.signature(sd_cpp.StableDiffusion.__init__)
    signature.bind(None, model_path="x.gguf", n_threads=1, verbose=False, lora_model_dir="d")


def test_cancel_ends_the_stream_at_once_and_the_next_job_waits(tmp_path: Path) -> None:
    engine, stand_in = _engine()
    stand_in.hold_at = 2
    cancel = threading.Event()
    request = ImageRequest(prompt="a cat", steps=6, width=64, height=64)
    seen = []
    with pytest.raises(GenerationCancelled):
        for event in engine.generate(request, cancel):
            seen.append(event)
            if isinstance(event, ImageStep) and event.step == 2:
                cancel.set()  # the C call is held at step 2: it cannot be stopped

    assert [e.step for e in seen] == [1, 2]
    assert not stand_in.finished.is_set()
    stand_in.hold_at = None
    stand_in.release.set()
    events = list(engine.generate(request))  # waits for the cancelled call to end first
    assert stand_in.finished.is_set() and isinstance(events[-1], ImageResult)


def test_a_refused_request_does_not_block_the_next(tmp_path: Path) -> None:
    from backends.errors import UnsupportedOption

    engine, _stand_in = _engine()
    with pytest.raises(UnsupportedOption, match="no sampler"):
        list(engine.generate(ImageRequest(prompt="a", steps=2, scheduler="nope")))

    events = list(engine.generate(ImageRequest(prompt="a", steps=2, width=64, height=64)))
    assert isinstance(events[-1], ImageResult)


def test_lora_goes_into_the_prompt_from_its_folder(tmp_path: Path) -> None:
    engine, stand_in = _engine()
    lora = tmp_path / "pixel_art.safetensors"
    lora.write_bytes(b"x")
    engine._lora_dir = str(tmp_path)  # the folder the model was opened with
    request = ImageRequest(prompt="a cat", steps=2, lora=str(lora), lora_weight=0.7)

    list(engine.generate(request))

    assert stand_in.calls[0]["prompt"] == "a cat <lora:pixel_art:0.7>"
