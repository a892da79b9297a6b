"""The A1111 `parameters` chunk: what we write, other tools read, and we read back."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from backends.image.png_metadata import (
    format_parameters,
    parse_parameters,
    read_parameters,
    request_from_parameters,
    save_png,
)
from backends.image.protocol import ImageRequest


def test_format_matches_a1111_layout() -> None:
    request = ImageRequest(
        prompt="a lighthouse at dusk",
        negative_prompt="blurry",
        steps=20,
        cfg_scale=7.0,
        seed=42,
        width=512,
        height=768,
    )

    text = format_parameters(request, sampler="Euler", model="sd-turbo")

    assert text == (
        "a lighthouse at dusk\n"
        "Negative prompt: blurry\n"
        "Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 42, Size: 512x768, Model: sd-turbo"
    )


def test_png_round_trips_the_request(tmp_path: Path) -> None:
    request = ImageRequest(
        prompt="two lines,\nwith: commas",
        negative_prompt="low quality, text",
        steps=7,
        cfg_scale=4.5,
        seed=123456789,
        width=64,
        height=48,
        init_image="/x/start.png",
        strength=0.35,
    )
    text = format_parameters(request, sampler="DDIMScheduler", model="org/model, v2")
    path = save_png(Image.new("RGB", (64, 48), "red"), tmp_path / "a.png", text)

    stored = read_parameters(path)

    assert stored == text
    fields = parse_parameters(stored)
    assert fields["Model"] == "org/model, v2"
    assert fields["Sampler"] == "DDIM"  # A1111's name for it
    back = request_from_parameters(stored)
    assert back.prompt == request.prompt
    assert back.negative_prompt == request.negative_prompt
    assert (back.steps, back.cfg_scale, back.seed) == (7, 4.5, 123456789)
    assert (back.width, back.height, back.strength) == (64, 48, 0.35)
    assert back.scheduler == "DDIM"
    assert not list(tmp_path.glob("*.part"))


def test_reads_a_file_written_by_a1111_style_tools() -> None:
    text = (
        "masterpiece, cat\nNegative prompt: dog\n"
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 7, Size: 768x512, "
        'Model hash: abc123, Model: realistic, Version: "v1.9.0"'
    )

    back = request_from_parameters(text)

    assert (back.prompt, back.negative_prompt) == ("masterpiece, cat", "dog")
    assert (back.steps, back.cfg_scale, back.seed, back.width, back.height) == (
        30,
        6.5,
        7,
        768,
        512,
    )
    assert parse_parameters(text)["Version"] == "v1.9.0"


def test_png_without_parameters_reads_none(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(path)

    assert read_parameters(path) is None


def test_model_hash_and_lora_are_written_the_a1111_way_and_read_back(tmp_path: Path) -> None:
    """civitai and A1111 link a picture by `Model hash` (first 10 hex of the checkpoint's
    sha256) and `Lora hashes` (first 12 of the LoRA's), with the LoRA in the prompt."""
    import hashlib

    from backends.base import ModelSpec
    from backends.image.model_hash import model_hash
    from backends.image.outputs import save_result
    from backends.image.protocol import ImageResult
    from backends.store.gallery import GalleryStore

    checkpoint = tmp_path / "dreamy-v2.safetensors"
    checkpoint.write_bytes(b"checkpoint weights" * 1000)
    lora = tmp_path / "film grain.safetensors"
    lora.write_bytes(b"lora weights" * 100)
    spec = ModelSpec(key="k", name="dreamy-v2", engine="sdcpp", path=str(checkpoint))
    request = ImageRequest(prompt="a harbour", seed=5, lora=str(lora), lora_weight=0.8)
    result = ImageResult(Image.new("RGB", (8, 8)), request, "euler_a", 1.0, None)
    gallery = GalleryStore(tmp_path / "gallery.sqlite3")

    saved = save_result(
        result,
        model=spec.name,
        outputs_dir=tmp_path / "out",
        gallery=gallery,
        model_hash=model_hash(spec),
    )

    text = read_parameters(Path(saved.path)) or ""
    fields = parse_parameters(text)
    assert fields["Prompt"] == "a harbour <lora:film grain:0.8>"
    assert fields["Model hash"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:10]
    lora_sha = hashlib.sha256(lora.read_bytes()).hexdigest()[:12]
    assert fields["Lora hashes"] == f"film grain: {lora_sha}"
    assert fields["Sampler"] == "Euler a"
    assert f'Lora hashes: "film grain: {lora_sha}"' in text.splitlines()[-1]
    back = request_from_parameters(text)
    assert (back.prompt, back.lora, back.lora_weight) == ("a harbour", "film grain", 0.8)


def test_a_diffusers_folder_is_hashed_by_its_denoiser_weights(tmp_path: Path) -> None:
    import hashlib

    from backends.base import ModelSpec
    from backends.image.model_hash import model_hash

    unet = tmp_path / "pipe" / "unet"
    unet.mkdir(parents=True)
    (unet / "diffusion_pytorch_model.safetensors").write_bytes(b"unet")
    spec = ModelSpec(key="k", name="pipe", engine="diffusers", path=str(tmp_path / "pipe"))

    assert model_hash(spec) == hashlib.sha256(b"unet").hexdigest()[:10]
    assert model_hash(ModelSpec(key="r", name="r", engine="diffusers", repo_id="a/b")) is None


def test_every_engine_s_sampler_spelling_is_written_by_its_a1111_name() -> None:
    from backends.image.samplers import a1111_sampler

    assert a1111_sampler("EulerAncestralDiscreteScheduler") == "Euler a"  # diffusers
    assert a1111_sampler("euler_a") == "Euler a"  # stable-diffusion.cpp
    assert a1111_sampler("euler_ancestral") == "Euler a"  # ComfyUI
    assert a1111_sampler("dpmpp_2m") == "DPM++ 2M"
    assert a1111_sampler("DPM++ 2M Karras") == "DPM++ 2M Karras"  # already A1111's
    assert a1111_sampler("my_sampler") == "my_sampler"  # unknown: as it is
