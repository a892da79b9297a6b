"""A GGUF-quantized transformer placed into its base pipeline through the real
`from_single_file` + `GGUFQuantizationConfig` path (as for a Z-Image-Turbo Q4/Q5/Q8 GGUF)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backends.base import ModelSpec
from backends.errors import ModelNotFound, UnsupportedModel
from backends.image.diffusers_engine import DiffusersEngine
from backends.image.protocol import ImageLoadOptions, ImageRequest, ImageResult

pytestmark = pytest.mark.slow

REQUEST = ImageRequest(prompt="a red cat", steps=3, width=64, height=64, seed=3)


def _pixels(engine: DiffusersEngine) -> np.ndarray:
    result = [e for e in engine.generate(REQUEST) if isinstance(e, ImageResult)][-1]
    return np.asarray(result.image).astype(int)


def test_gguf_transformer_runs_in_its_base_pipeline(
    tiny_sd3_dir: Path, tiny_sd3_gguf: Path
) -> None:
    from diffusers.quantizers.gguf.utils import GGUFParameter

    quantized = DiffusersEngine()
    quantized.load(
        ModelSpec("g", "tiny-sd3 Q8_0", "diffusers", str(tiny_sd3_gguf)),
        ImageLoadOptions(base_pipeline=str(tiny_sd3_dir)),
    )
    plain = DiffusersEngine()
    plain.load(ModelSpec("b", "tiny-sd3", "diffusers", str(tiny_sd3_dir)), ImageLoadOptions())

    weight = quantized._pipe.transformer.transformer_blocks[0].attn.to_q.weight
    assert isinstance(weight, GGUFParameter)
    assert np.abs(_pixels(quantized) - _pixels(plain)).max() <= 3  # Q8_0 ~ the float weights
    quantized.unload()
    plain.unload()


def test_gguf_without_base_or_from_another_model_is_refused(
    tiny_sd3_gguf: Path, tiny_sd_dir: Path, tmp_path: Path
) -> None:
    from tests.fixtures.tiny_diffusion import write_transformer_gguf

    spec = ModelSpec("g", "tiny-sd3 Q8_0", "diffusers", str(tiny_sd3_gguf))
    with pytest.raises(ModelNotFound, match="base pipeline"):
        DiffusersEngine().load(spec, ImageLoadOptions())
    with pytest.raises(UnsupportedModel, match="has no transformer"):
        DiffusersEngine().load(spec, ImageLoadOptions(base_pipeline=str(tiny_sd_dir)))

    unet_gguf = write_transformer_gguf(tiny_sd_dir, tmp_path / "unet.gguf", component="unet")
    sd3_base = tiny_sd3_gguf.parent  # not a pipeline folder
    with pytest.raises(ModelNotFound, match="model_index.json"):
        DiffusersEngine().load(
            ModelSpec("u", "u", "diffusers", str(unet_gguf)),
            ImageLoadOptions(base_pipeline=str(sd3_base)),
        )


def test_gguf_that_does_not_fit_the_pipeline(
    tiny_sd3_dir: Path, tiny_sd_dir: Path, tmp_path: Path
) -> None:
    from tests.fixtures.tiny_diffusion import write_transformer_gguf

    wrong = write_transformer_gguf(tiny_sd_dir, tmp_path / "unet.gguf", component="unet")

    with pytest.raises(UnsupportedModel, match="does not fit the base pipeline") as caught:
        DiffusersEngine().load(
            ModelSpec("w", "w", "diffusers", str(wrong)),
            ImageLoadOptions(base_pipeline=str(tiny_sd3_dir)),
        )
    assert caught.value.title == "GGUF does not match its pipeline"
