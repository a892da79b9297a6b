"""The ComfyUI engine against a local server speaking its API (/prompt, /ws, /history, /view)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from backends.errors import GenerationError, OutOfMemory, UnsupportedModel, UnsupportedOption
from backends.image.comfyui_engine import ComfyUIEngine
from backends.image.comfyui_workflow import builtin_workflow
from backends.image.jobs import ImageQueue, run_job
from backends.image.png_metadata import read_parameters
from backends.image.protocol import GenerationCancelled, ImageLoadOptions, ImageRequest, ImageStep
from backends.store.gallery import GalleryStore
from tests.fixtures.comfyui_server import CHECKPOINT, LORAS, OOM_MESSAGE, ComfyUITestServer
from tests.fixtures.remote_http import png_bytes


def _loaded(server: ComfyUITestServer, path: str | None = None) -> ComfyUIEngine:
    engine = ComfyUIEngine()
    engine.load(server.spec(path=path), ImageLoadOptions())
    return engine


def test_builtin_workflow_job_lands_in_gallery(
    comfyui_server: ComfyUITestServer, tmp_path: Path
) -> None:
    engine = _loaded(comfyui_server)
    assert engine.capabilities().schedulers == ("euler", "euler_ancestral", "dpmpp_2m")
    job = ImageQueue().add(
        ImageRequest(
            "a lighthouse",
            negative_prompt="fog",
            steps=4,
            seed=7,
            cfg_scale=5.5,
            width=64,
            height=64,
            scheduler="dpmpp_2m",
        )
    )
    steps: list[ImageStep] = []
    outcome = run_job(
        engine,
        job,
        model=CHECKPOINT,
        outputs_dir=tmp_path / "out",
        gallery=GalleryStore(tmp_path / "g.sqlite"),
        on_step=steps.append,
    )
    assert [s.step for s in steps if s.preview is None] == [1, 2, 3, 4]
    assert all(s.total == 4 for s in steps)
    assert any(s.preview is not None for s in steps)
    sent = comfyui_server.prompts[0]
    assert sent["3"]["inputs"]["seed"] == 7 and sent["3"]["inputs"]["sampler_name"] == "dpmpp_2m"
    assert sent["6"]["inputs"]["text"] == "a lighthouse" and sent["7"]["inputs"]["text"] == "fog"
    parameters = read_parameters(Path(outcome.saved.path))
    assert parameters is not None and "Seed: 7" in parameters


def test_user_workflow_gets_the_form_values(
    comfyui_server: ComfyUITestServer, tmp_path: Path
) -> None:
    """A user's API-format workflow (ids and wiring of their own) is mapped by its wires."""
    graph = builtin_workflow(ImageRequest("placeholder"), CHECKPOINT)
    renamed = {f"n{k}": v for k, v in graph.items()}
    for node in renamed.values():
        for key, value in node["inputs"].items():
            if isinstance(value, list):
                node["inputs"][key] = [f"n{value[0]}", value[1]]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(renamed))
    engine = _loaded(comfyui_server, str(path))
    list(engine.generate(ImageRequest("a cat", steps=3, seed=99, width=128, height=96)))
    sent = comfyui_server.prompts[0]
    assert sent["n3"]["inputs"]["seed"] == 99 and sent["n3"]["inputs"]["steps"] == 3
    assert sent["n6"]["inputs"]["text"] == "a cat"
    assert (sent["n5"]["inputs"]["width"], sent["n5"]["inputs"]["height"]) == (128, 96)


def test_ui_format_workflow_is_explained(comfyui_server: ComfyUITestServer, tmp_path: Path) -> None:
    path = tmp_path / "ui.json"
    path.write_text(json.dumps({"nodes": [], "links": []}))
    with pytest.raises(UnsupportedModel, match="Export \\(API\\)"):
        _loaded(comfyui_server, str(path))


def test_image_to_image_uploads_the_start_picture(
    comfyui_server: ComfyUITestServer, tmp_path: Path
) -> None:
    start = tmp_path / "start.png"
    start.write_bytes(png_bytes(64, 64))
    engine = _loaded(comfyui_server)
    list(engine.generate(ImageRequest("x", steps=2, init_image=str(start), strength=0.4)))
    sent = comfyui_server.prompts[0]
    assert comfyui_server.uploads == ["start.png"]
    assert sent["10"]["inputs"]["image"] == "start.png"
    assert sent["3"]["inputs"]["denoise"] == 0.4


def test_cancel_interrupts_on_the_server(comfyui_server: ComfyUITestServer) -> None:
    comfyui_server.hold_at_step = 2
    engine = _loaded(comfyui_server)
    cancel = threading.Event()
    with pytest.raises(GenerationCancelled):
        for event in engine.generate(ImageRequest("x", steps=5), cancel):
            if isinstance(event, ImageStep) and event.step >= 2:
                cancel.set()
    assert comfyui_server.interrupted.wait(5)


def test_out_of_memory_shows_the_servers_message(comfyui_server: ComfyUITestServer) -> None:
    comfyui_server.oom = True
    with pytest.raises(OutOfMemory) as caught:
        list(_loaded(comfyui_server).generate(ImageRequest("x", steps=3)))
    assert OOM_MESSAGE in caught.value.message


def test_cut_feed_mid_job_says_so(comfyui_server: ComfyUITestServer) -> None:
    comfyui_server.cut_at_step = 2
    with pytest.raises(GenerationError) as caught:
        list(_loaded(comfyui_server).generate(ImageRequest("x", steps=4)))
    assert caught.value.title == "Connection lost"
    assert "step 1/4" in caught.value.message


def test_missing_checkpoint_is_named(comfyui_server: ComfyUITestServer) -> None:
    with pytest.raises(UnsupportedModel) as caught:
        ComfyUIEngine().load(comfyui_server.spec("flux1-dev.safetensors"), ImageLoadOptions())
    assert caught.value.title == "Model missing on the server"


def test_a_server_lora_is_chained_into_the_builtin_workflow(
    comfyui_server: ComfyUITestServer, tmp_path: Path
) -> None:
    """LoRAs come from /object_info/LoraLoader; the one picked sits between the checkpoint
    and the sampler and text encoders, and the PNG names it the A1111 way."""
    engine = _loaded(comfyui_server)
    caps = engine.capabilities()
    assert caps.lora and caps.server_loras == tuple(LORAS)
    job = ImageQueue().add(
        ImageRequest(
            "a lighthouse", steps=2, seed=3, width=64, height=64, lora=LORAS[1], lora_weight=0.6
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
    sent = comfyui_server.prompts[0]
    (lora_id,) = [i for i, n in sent.items() if n["class_type"] == "LoraLoader"]
    assert sent[lora_id]["inputs"] == {
        "lora_name": "styles/film-grain.safetensors",
        "strength_model": 0.6,
        "strength_clip": 0.6,
        "model": ["4", 0],
        "clip": ["4", 1],
    }
    assert sent["3"]["inputs"]["model"] == [lora_id, 0]
    assert sent["6"]["inputs"]["clip"] == [lora_id, 1] == sent["7"]["inputs"]["clip"]
    parameters = read_parameters(Path(outcome.saved.path))
    assert parameters is not None
    assert parameters.splitlines()[0] == "a lighthouse <lora:film-grain:0.6>"


def test_a_lora_the_server_lacks_is_named_before_queueing(
    comfyui_server: ComfyUITestServer,
) -> None:
    engine = _loaded(comfyui_server)
    request = ImageRequest("x", steps=2, width=64, height=64, lora="nope.safetensors")
    with pytest.raises(UnsupportedOption, match="has no LoRA 'nope.safetensors'"):
        list(engine.generate(request))
    assert comfyui_server.prompts == []
