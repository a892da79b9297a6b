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
