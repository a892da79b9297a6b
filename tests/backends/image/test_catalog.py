"""Image models are told apart from chat models without loading anything."""

from __future__ import annotations

from pathlib import Path

from backends.image.catalog import gguf_is_diffusion
from backends.models.catalog import gguf_spec, scan_model_dirs


def test_diffusion_gguf_is_an_image_model(tiny_sd3_gguf: Path, tiny_gguf_path: Path) -> None:
    assert gguf_is_diffusion(tiny_sd3_gguf)
    assert not gguf_is_diffusion(tiny_gguf_path)
    assert gguf_spec(tiny_sd3_gguf).engine == "sdcpp"
    assert gguf_spec(tiny_gguf_path).engine == "llama_cpp"
    engines = {s.engine for s in scan_model_dirs([tiny_sd3_gguf.parent, tiny_gguf_path.parent])}
    assert engines == {"sdcpp", "llama_cpp"}


def test_not_a_gguf_is_not_diffusion(tmp_path: Path) -> None:
    junk = tmp_path / "x.gguf"
    junk.write_bytes(b"nope")

    assert not gguf_is_diffusion(junk)
    assert not gguf_is_diffusion(tmp_path / "missing.gguf")


def test_hub_tags_route_image_models_to_image_engines() -> None:
    from backends.hub.models import engine_for

    assert engine_for(["gguf", "flux"], "gguf", "text-to-image") == "sdcpp"
    assert engine_for(["gguf"], "gguf", "text-generation") == "llama_cpp"
    assert engine_for(["diffusers", "safetensors"], "diffusers", "text-to-image") == "diffusers"
