"""The AUTOMATIC1111 / Forge engine against a local server speaking its API."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from backends.base import ModelSpec, ServerConfig
from backends.errors import (
    GenerationError,
    OutOfMemory,
    ServerError,
    ServerUnreachable,
    UnsupportedModel,
    UnsupportedOption,
)
from backends.image.a1111_engine import A1111Engine
from backends.image.jobs import ImageQueue, run_job
from backends.image.png_metadata import read_parameters
from backends.image.protocol import GenerationCancelled, ImageLoadOptions, ImageRequest, ImageStep
from backends.store.gallery import GalleryStore
from tests.fixtures.a1111_server import CHECKPOINT, LORAS, OOM_TEXT, A1111TestServer
from tests.fixtures.openai_server import LocalOpenAIServer


def _loaded(server: A1111TestServer) -> A1111Engine:
    engine = A1111Engine(poll_s=0.0)
    engine.load(server.spec(), ImageLoadOptions())
    return engine


def test_load_reads_samplers_and_offers_img2img(a1111_server: A1111TestServer) -> None:
    engine = _loaded(a1111_server)
    caps = engine.capabilities()
    assert caps.schedulers == ("Euler a", "Euler", "DPM++ 2M", "DDIM")
    assert caps.image_to_image


def test_job_lands_in_gallery_with_a1111_metadata(
    a1111_server: A1111TestServer, tmp_path: Path
) -> None:
    """Steps come from /progress (held at step 3 so the poll sees it), the PNG carries the
    parameters chunk, and the checkpoint went in override_settings."""
    a1111_server.hold_at_step = 3
    engine = _loaded(a1111_server)
    queue = ImageQueue()
    job = queue.add(
        ImageRequest("a red fox", steps=6, seed=42, width=64, height=48, scheduler="DPM++ 2M")
    )
    steps: list[ImageStep] = []

    def on_step(step: ImageStep) -> None:
        steps.append(step)
        if step.step >= 3:
            a1111_server.release.set()

    gallery = GalleryStore(tmp_path / "gallery.sqlite")
    outcome = run_job(
        engine,
        job,
        model=CHECKPOINT,
        outputs_dir=tmp_path / "out",
        gallery=gallery,
        on_step=on_step,
    )
    assert any(s.step == 3 and s.total == 6 for s in steps)
    assert steps[-1].step == 6
    assert any(s.preview is not None for s in steps)
    assert outcome.result.image.size == (64, 48)
    parameters = read_parameters(Path(outcome.saved.path))
    assert parameters is not None
    assert "Seed: 42" in parameters and "Sampler: DPM++ 2M" in parameters
    body = next(b for m, p, _, b in a1111_server.requests if p == "/sdapi/v1/txt2img")
    assert body["override_settings"] == {"sd_model_checkpoint": CHECKPOINT}
    assert body["sampler_name"] == "DPM++ 2M"


def test_cancel_interrupts_on_the_server(a1111_server: A1111TestServer) -> None:
    a1111_server.hold_at_step = 2
    engine = _loaded(a1111_server)
    cancel = threading.Event()
    with pytest.raises(GenerationCancelled):
        for event in engine.generate(ImageRequest("x", steps=5, width=64, height=64), cancel):
            if isinstance(event, ImageStep) and event.step >= 2:
                cancel.set()
    assert a1111_server.interrupted.wait(5)
    assert "/sdapi/v1/interrupt" in a1111_server.paths("POST")


def test_out_of_memory_shows_the_servers_message(a1111_server: A1111TestServer) -> None:
    a1111_server.oom = True
    engine = _loaded(a1111_server)
    with pytest.raises(OutOfMemory) as caught:
        list(engine.generate(ImageRequest("x", steps=2)))
    assert "CUDA out of memory" in caught.value.message
    assert OOM_TEXT[:40] in caught.value.message


def test_cut_connection_mid_job_says_where(a1111_server: A1111TestServer) -> None:
    a1111_server.cut_at_step = 3
    engine = _loaded(a1111_server)
    with pytest.raises(GenerationError) as caught:
        list(engine.generate(ImageRequest("x", steps=5)))
    assert caught.value.title == "Connection lost"
    assert "forge" in caught.value.message


def test_a_cut_before_any_preview_does_not_promise_one(a1111_server: A1111TestServer) -> None:
    """No poll came back before the cut: the message says nothing was made, rather than
    pointing at a preview that is not there."""
    a1111_server.cut_at_step = 1
    engine = A1111Engine(poll_s=60.0)
    engine.load(a1111_server.spec(), ImageLoadOptions())
    with pytest.raises(GenerationError) as caught:
        list(engine.generate(ImageRequest("x", steps=5)))
    assert "Nothing was made yet to keep." in caught.value.message
    assert "preview" not in caught.value.message


def test_missing_checkpoint_is_named(a1111_server: A1111TestServer) -> None:
    engine = A1111Engine()
    with pytest.raises(UnsupportedModel) as caught:
        engine.load(a1111_server.spec("sdxl-base.safetensors"), ImageLoadOptions())
    assert "does not have 'sdxl-base.safetensors'" in caught.value.message
    assert CHECKPOINT in caught.value.message


def test_an_openai_server_configured_as_a1111_is_explained(
    openai_server: LocalOpenAIServer,
) -> None:
    server = ServerConfig(
        name="box", base_url=openai_server.base_url.removesuffix("/v1"), kind="a1111"
    )
    spec = ModelSpec(
        key="a1111:box/m",
        name="m",
        engine="a1111",
        source="server",
        server=server,
        remote_model="m",
    )
    with pytest.raises(ServerError) as caught:
        A1111Engine().load(spec, ImageLoadOptions())
    assert caught.value.title == "Wrong server kind"
    assert "kind = 'openai'" in caught.value.message


def test_server_down_is_unreachable() -> None:
    server = ServerConfig(name="gone", base_url="http://127.0.0.1:9", kind="a1111")
    spec = ModelSpec(
        key="a1111:gone/m",
        name="m",
        engine="a1111",
        source="server",
        server=server,
        remote_model="m",
    )
    with pytest.raises(ServerUnreachable):
        A1111Engine().load(spec, ImageLoadOptions())


def test_a_server_lora_goes_in_the_prompt_and_the_png(
    a1111_server: A1111TestServer, tmp_path: Path
) -> None:
    """LoRAs come from /sdapi/v1/loras; the one picked goes as `<lora:name:weight>` in the
    prompt (a name with a dot kept whole), and the PNG carries it with the hash the server
    reported, as A1111's own PNGs do."""
    engine = _loaded(a1111_server)
    caps = engine.capabilities()
    assert caps.lora and caps.server_loras == tuple(LORAS)
    job = ImageQueue().add(
        ImageRequest(
            "a red fox",
            steps=2,
            seed=5,
            width=64,
            height=64,
            lora="lcm-lora-sdv1.5",
            lora_weight=0.7,
        )
    )
    outcome = run_job(
        engine,
        job,
        model=CHECKPOINT,
        outputs_dir=tmp_path / "out",
        gallery=GalleryStore(tmp_path / "g.sqlite"),
        on_step=lambda step: None,
    )
    body = next(b for m, p, _, b in a1111_server.requests if p == "/sdapi/v1/txt2img")
    assert body["prompt"] == "a red fox <lora:lcm-lora-sdv1.5:0.7>"
    parameters = read_parameters(Path(outcome.saved.path))
    assert parameters is not None
    assert parameters.splitlines()[0] == "a red fox <lora:lcm-lora-sdv1.5:0.7>"
    assert 'Lora hashes: "lcm-lora-sdv1.5: a1b2c3d4e5f6"' in parameters


def test_a_lora_the_server_lacks_is_named(a1111_server: A1111TestServer) -> None:
    request = ImageRequest("x", steps=2, width=64, height=64, lora="missing-lora")
    with pytest.raises(UnsupportedOption, match="forge has no LoRA 'missing-lora'"):
        list(_loaded(a1111_server).generate(request))
    assert "/sdapi/v1/txt2img" not in a1111_server.paths("POST")
