"""Build a full-shape Stable Diffusion 1.5 checkpoint with random weights, quantized for
stable-diffusion.cpp: the real architecture (UNet 860 M, VAE 84 M, CLIP ViT-L text encoder
123 M parameters), none of the real weights, so no download and no licence.

1. Names and shapes come from diffusers' / transformers' SD 1.5 classes built on the meta
   device; the tensors are random (N(0, 1/fan_in): activations stay finite, the picture is
   noise), float16, renamed to the original (LDM) layout every single-file SD 1.5
   checkpoint has, and written as one safetensors file (~2.1 GB).
2. stable-diffusion.cpp's own `convert` turns it into one GGUF (q4_0 by default; sd.cpp
   keeps convolution kernels in f16, so it stays ~1.4 GB).
3. The safetensors file is deleted; only the GGUF stays.

A name stable-diffusion.cpp does not expect fails quietly: "get sd version from file
failed" in its log, a NULL context, and `generate_image` then dereferences it (the app's
engine checks the context and says the model is not one it knows).

Everything lives outside the repository, in ~/.cache/localai-tui-bench (or --out). Peak
memory while building: ~3 GB; takes a minute or two on 2 cores. Reused when it exists.

    python bench/sdcpp_checkpoint.py [--out DIR] [--type q4_0]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

CACHE = Path.home() / ".cache" / "localai-tui-bench"

UNET = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    "block_out_channels": (320, 640, 1280, 1280),
    "layers_per_block": 2,
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
}
VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "block_out_channels": (128, 256, 512, 512),
    "layers_per_block": 2,
    "latent_channels": 4,
    "sample_size": 512,
}
CLIP = {
    "vocab_size": 49408,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "projection_dim": 768,
}


def _unet_names() -> dict[str, str]:
    """diffusers prefix -> original (LDM) prefix for SD 1.x's UNet blocks."""
    names: dict[str, str] = {}
    for i in range(4):
        for j in range(2):
            names[f"down_blocks.{i}.resnets.{j}."] = f"input_blocks.{3 * i + j + 1}.0."
            if i < 3:
                names[f"down_blocks.{i}.attentions.{j}."] = f"input_blocks.{3 * i + j + 1}.1."
        for j in range(3):
            names[f"up_blocks.{i}.resnets.{j}."] = f"output_blocks.{3 * i + j}.0."
            if i > 0:
                names[f"up_blocks.{i}.attentions.{j}."] = f"output_blocks.{3 * i + j}.1."
        if i < 3:
            names[f"down_blocks.{i}.downsamplers.0.conv."] = f"input_blocks.{3 * (i + 1)}.0.op."
            names[f"up_blocks.{i}.upsamplers.0."] = (
                f"output_blocks.{3 * i + 2}.{1 if i == 0 else 2}."
            )
    names["mid_block.attentions.0."] = "middle_block.1."
    for j in range(2):
        names[f"mid_block.resnets.{j}."] = f"middle_block.{2 * j}."
    return names


UNET_LAYERS = {
    "time_embedding.linear_1.": "time_embed.0.",
    "time_embedding.linear_2.": "time_embed.2.",
    "conv_in.": "input_blocks.0.0.",
    "conv_norm_out.": "out.0.",
    "conv_out.": "out.2.",
}
RESNET = {
    "norm1.": "in_layers.0.",
    "conv1.": "in_layers.2.",
    "norm2.": "out_layers.0.",
    "conv2.": "out_layers.3.",
    "time_emb_proj.": "emb_layers.1.",
    "conv_shortcut.": "skip_connection.",
}


def unet_ldm_name(name: str) -> str:
    """A diffusers UNet tensor name as it is in an original SD 1.x checkpoint."""
    for hf, sd in UNET_LAYERS.items():
        if name.startswith(hf):
            return "model.diffusion_model." + sd + name[len(hf) :]
    for hf, sd in _unet_names().items():
        if name.startswith(hf):
            rest = name[len(hf) :]
            if "resnets" in hf:
                for a, b in RESNET.items():
                    if rest.startswith(a):
                        rest = b + rest[len(a) :]
            return "model.diffusion_model." + sd + rest
    raise KeyError(name)


def vae_ldm_name(name: str) -> str:
    """A diffusers VAE tensor name as it is in an original SD 1.x checkpoint."""
    out = name.replace("conv_norm_out.", "norm_out.").replace("conv_shortcut.", "nin_shortcut.")
    for i in range(4):
        out = re.sub(
            rf"^encoder\.down_blocks\.{i}\.resnets\.(\d)\.", rf"encoder.down.{i}.block.\1.", out
        )
        out = out.replace(
            f"encoder.down_blocks.{i}.downsamplers.0.", f"encoder.down.{i}.downsample."
        )
        out = re.sub(
            rf"^decoder\.up_blocks\.{i}\.resnets\.(\d)\.", rf"decoder.up.{3 - i}.block.\1.", out
        )
        out = out.replace(f"decoder.up_blocks.{i}.upsamplers.0.", f"decoder.up.{3 - i}.upsample.")
    for i in range(2):
        out = out.replace(f"mid_block.resnets.{i}.", f"mid.block_{i + 1}.")
    out = out.replace("mid_block.attentions.0.", "mid.attn_1.")
    for a, b in (
        ("group_norm.", "norm."),
        ("to_q.", "q."),
        ("to_k.", "k."),
        ("to_v.", "v."),
        ("to_out.0.", "proj_out."),
    ):
        out = out.replace("attn_1." + a, "attn_1." + b)
    return "first_stage_model." + out


def _random(shape: tuple[int, ...], name: str, rng: np.random.Generator) -> np.ndarray:
    """PyTorch-like initial values: weights ~ N(0, 1/fan_in), norm weights 1, biases 0,
    so activations stay finite through all the layers."""
    if name.endswith(".bias") or "position_ids" in name:
        return np.zeros(shape, dtype=np.float16)
    if len(shape) == 1:  # a norm's scale
        return np.ones(shape, dtype=np.float16)
    fan_in = int(np.prod(shape[1:]))
    values = rng.standard_normal(shape, dtype=np.float32) * (1.0 / np.sqrt(fan_in))
    return values.astype(np.float16)


def ldm_tensors(seed: int = 0) -> dict[str, np.ndarray]:
    """Every tensor of an original-format SD 1.5 checkpoint, random, float16 (~2.1 GB).
    Names and shapes come from diffusers' / transformers' SD 1.5 classes built on the
    meta device (no memory), renamed to the original layout."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    rng = np.random.default_rng(seed)
    tensors: dict[str, np.ndarray] = {}
    with torch.device("meta"):
        unet = UNet2DConditionModel(**UNET)
        vae = AutoencoderKL(**VAE)
        clip = CLIPTextModel(CLIPTextConfig(**CLIP))
    for name, value in unet.state_dict().items():
        tensors[unet_ldm_name(name)] = _random(tuple(value.shape), name, rng)
    for name, value in vae.state_dict().items():
        shape = tuple(value.shape)
        ldm = vae_ldm_name(name)
        if ".attn_1." in ldm and ldm.endswith(".weight") and len(shape) == 2:
            shape = (*shape, 1, 1)  # the original VAE's attention uses 1x1 convolutions
        tensors[ldm] = _random(shape, name, rng)
    for name, value in clip.state_dict().items():
        if name.endswith("position_ids"):
            continue
        # transformers 5 keeps CLIP's layers at the top (no `text_model.`); the original
        # layout, and stable-diffusion.cpp's model detection, want them under it.
        ldm = name if name.startswith("text_model.") else "text_model." + name
        tensors["cond_stage_model.transformer." + ldm] = _random(tuple(value.shape), name, rng)
    return tensors


def write_ldm_checkpoint(path: Path, seed: int = 0) -> Path:
    from safetensors.numpy import save_file

    save_file(ldm_tensors(seed), str(path))
    return path


def convert_to_gguf(source: Path, output: Path, weight_type: str) -> Path:
    """stable-diffusion.cpp's own converter: checkpoint -> one GGUF of `weight_type`.

    The names stay as written (the original layout, which every loader knows)."""
    from stable_diffusion_cpp import stable_diffusion_cpp as sd_cpp
    from stable_diffusion_cpp.stable_diffusion import GGML_TYPE_MAP

    ok = sd_cpp.convert(
        str(source).encode(), b"", str(output).encode(), int(GGML_TYPE_MAP[weight_type]), b"", False
    )
    if not ok or not output.is_file():
        raise RuntimeError(f"stable-diffusion.cpp could not convert {source}")
    return output


def full_shape_checkpoint(out: Path = CACHE, weight_type: str = "q4_0") -> Path:
    """The GGUF path, built once (reused while it exists)."""
    output = out / f"sd15-random-{weight_type}.gguf"
    if output.is_file():
        return output
    out.mkdir(parents=True, exist_ok=True)
    source = out / "sd15-random-f16.safetensors"
    partial = output.with_suffix(".partial.gguf")
    try:
        write_ldm_checkpoint(source)
        convert_to_gguf(source, partial, weight_type)
        partial.rename(output)
    finally:
        source.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CACHE)
    parser.add_argument("--type", default="q4_0", help="q4_0, q8_0, f16 ... (default q4_0)")
    args = parser.parse_args()
    start = time.perf_counter()
    path = full_shape_checkpoint(args.out, args.type)
    took = time.perf_counter() - start
    print(f"{path} ({path.stat().st_size / 1e6:.0f} MB) in {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
