"""PNG files with their parameters in the A1111 `parameters` text chunk.

A1111, Forge, ComfyUI's loaders, InvokeAI's importer and civitai all read this chunk:

    a lighthouse at dusk
    Negative prompt: blurry
    Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 42, Size: 512x512, Model: sd-turbo

The last line is comma-separated `Key: value` pairs; a value with a comma is quoted.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from backends.image.protocol import ImageRequest

if TYPE_CHECKING:
    from PIL.Image import Image

PARAMETERS_KEY = "parameters"

# Scheduler / sampler names as A1111 writes them, so other tools read ours (and we theirs).
A1111_SAMPLERS = {
    "DDIMScheduler": "DDIM",
    "EulerDiscreteScheduler": "Euler",
    "EulerAncestralDiscreteScheduler": "Euler a",
    "DPMSolverMultistepScheduler": "DPM++ 2M",
    "DPMSolverSinglestepScheduler": "DPM++ SDE",
    "KDPM2DiscreteScheduler": "DPM2",
    "KDPM2AncestralDiscreteScheduler": "DPM2 a",
    "HeunDiscreteScheduler": "Heun",
    "LMSDiscreteScheduler": "LMS",
    "PNDMScheduler": "PLMS",
    "UniPCMultistepScheduler": "UniPC",
    "DEISMultistepScheduler": "DEIS",
    "LCMScheduler": "LCM",
    "DDPMScheduler": "DDPM",
    "FlowMatchEulerDiscreteScheduler": "Euler",
    "euler_a": "Euler a",
    "euler": "Euler",
    "heun": "Heun",
    "dpm2": "DPM2",
    "dpm++2s_a": "DPM++ 2S a",
    "dpm++2m": "DPM++ 2M",
    "dpm++2mv2": "DPM++ 2M v2",
    "lcm": "LCM",
}


def a1111_sampler(name: str) -> str:
    """The A1111 name of a diffusers scheduler class or a stable-diffusion.cpp sampler."""
    return A1111_SAMPLERS.get(name, name)


_PAIR = re.compile(r'\s*([\w ]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def _quote(value: str) -> str:
    if any(c in value for c in ',:"\n'):
        return json.dumps(value)
    return value


def _number(value: float) -> str:
    return f"{value:g}"


def format_parameters(request: ImageRequest, *, sampler: str, model: str) -> str:
    """The A1111 text for one image."""
    lines = [request.prompt]
    if request.negative_prompt:
        lines.append(f"Negative prompt: {request.negative_prompt}")
    fields = [
        ("Steps", str(request.steps)),
        ("Sampler", a1111_sampler(sampler)),
        ("CFG scale", _number(request.cfg_scale)),
        ("Seed", str(request.seed)),
        ("Size", f"{request.width}x{request.height}"),
        ("Model", model),
    ]
    if request.init_image:
        fields.append(("Denoising strength", _number(request.strength)))
    if request.lora:
        fields.append(("Lora", f"{Path(request.lora).name}:{_number(request.lora_weight)}"))
    lines.append(", ".join(f"{key}: {_quote(value)}" for key, value in fields))
    return "\n".join(lines)


def parse_parameters(text: str) -> dict[str, str]:
    """The fields of an A1111 text: "Prompt", "Negative prompt" and each `Key: value` pair."""
    lines = text.strip("\n").split("\n")
    fields: dict[str, str] = {}
    last = lines[-1] if lines else ""
    pairs = _PAIR.findall(last) if "Steps:" in last else []
    if pairs:
        lines = lines[:-1]
        for key, value in pairs:
            value = value.strip()
            if value.startswith('"'):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            fields[key.strip()] = value
    prompt_lines: list[str] = []
    negative_lines: list[str] | None = None
    for line in lines:
        if negative_lines is None and line.startswith("Negative prompt:"):
            negative_lines = [line.removeprefix("Negative prompt:").strip()]
        elif negative_lines is not None:
            negative_lines.append(line)
        else:
            prompt_lines.append(line)
    fields["Prompt"] = "\n".join(prompt_lines)
    fields["Negative prompt"] = "\n".join(negative_lines or [])
    return fields


def request_from_parameters(text: str, base: ImageRequest | None = None) -> ImageRequest:
    """An ImageRequest refilled from an A1111 text (fields it lacks keep `base`'s values)."""
    fields = parse_parameters(text)
    request = base or ImageRequest(prompt="")
    changes: dict[str, object] = {
        "prompt": fields["Prompt"],
        "negative_prompt": fields["Negative prompt"],
    }
    if fields.get("Sampler"):
        changes["scheduler"] = fields["Sampler"]  # an A1111 name: the form maps it back
    try:
        if "Steps" in fields:
            changes["steps"] = int(fields["Steps"])
        if "CFG scale" in fields:
            changes["cfg_scale"] = float(fields["CFG scale"])
        if "Seed" in fields:
            changes["seed"] = int(fields["Seed"])
        if "Size" in fields:
            width, height = fields["Size"].lower().split("x")
            changes["width"], changes["height"] = int(width), int(height)
        if "Denoising strength" in fields:
            changes["strength"] = float(fields["Denoising strength"])
    except ValueError:
        pass  # a hand-edited field: keep what parsed
    return replace(request, **changes)  # type: ignore[arg-type]


def save_png(image: Image, path: Path, parameters: str) -> Path:
    """Write `image` to `path` with the parameters chunk, atomically (no half-written files)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(PARAMETERS_KEY, parameters)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    image.save(partial, format="PNG", pnginfo=info)
    os.replace(partial, path)
    return path


def read_parameters(path: Path) -> str | None:
    """The parameters chunk of a PNG, or None when it has none."""
    from PIL import Image

    with Image.open(path) as image:
        text = image.info.get(PARAMETERS_KEY)
    return text if isinstance(text, str) else None
