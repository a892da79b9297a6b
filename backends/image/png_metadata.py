"""PNG files with their parameters in the A1111 `parameters` text chunk.

A1111, Forge, ComfyUI's loaders, InvokeAI's importer and civitai all read this chunk:

    a lighthouse at dusk
    Negative prompt: blurry
    a lighthouse at dusk <lora:film-grain:0.8>
    Negative prompt: blurry
    Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512, Model hash: 6ce0161689,
    Model: sd-turbo, Lora hashes: "film-grain: 4a3d2e1f0b9c"

(the last two lines are one.) The last line is comma-separated `Key: value` pairs; a value
with a comma or a colon is quoted. A LoRA goes in the prompt as `<lora:name:weight>`, as A1111
writes it; `Model hash` and `Lora hashes` are A1111's short sha256s (model_hash.py).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from backends.image.lora_file import LORA_SUFFIXES
from backends.image.protocol import ImageRequest
from backends.image.samplers import a1111_sampler

if TYPE_CHECKING:
    from PIL.Image import Image

PARAMETERS_KEY = "parameters"

_PAIR = re.compile(r'\s*([\w ]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def _quote(value: str) -> str:
    if any(c in value for c in ',:"\n'):
        return json.dumps(value)
    return value


def _number(value: float) -> str:
    return f"{value:g}"


def lora_label(lora: str) -> str:
    """The name A1111 writes in `<lora:name:weight>`: the file's name without its folder and
    LoRA suffix (a server's name such as `lcm-lora-sdv1.5` keeps its dots)."""
    name = Path(lora).name
    stem, dot, suffix = name.rpartition(".")
    return stem if dot and f".{suffix.lower()}" in LORA_SUFFIXES else name


def format_parameters(
    request: ImageRequest,
    *,
    sampler: str,
    model: str,
    model_hash: str | None = None,
    lora_hash: str | None = None,
) -> str:
    """The A1111 text for one image."""
    prompt = request.prompt
    lora = lora_label(request.lora) if request.lora else None
    if lora:
        prompt = f"{prompt} <lora:{lora}:{_number(request.lora_weight)}>"
    lines = [prompt]
    if request.negative_prompt:
        lines.append(f"Negative prompt: {request.negative_prompt}")
    fields = [
        ("Steps", str(request.steps)),
        ("Sampler", a1111_sampler(sampler)),
        ("CFG scale", _number(request.cfg_scale)),
        ("Seed", str(request.seed)),
        ("Size", f"{request.width}x{request.height}"),
    ]
    if model_hash:
        fields.append(("Model hash", model_hash))
    fields.append(("Model", model))
    if request.init_image:
        fields.append(("Denoising strength", _number(request.strength)))
    if lora and lora_hash:
        fields.append(("Lora hashes", f"{lora}: {lora_hash}"))
    lines.append(", ".join(f"{key}: {_quote(value)}" for key, value in fields))
    return "\n".join(lines)


_LORA_TAG = re.compile(r"\s*<lora:([^:>]+):([^>]*)>")


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
    loras = _LORA_TAG.findall(fields["Prompt"])
    if loras:  # A1111 keeps LoRAs in the prompt: the form has its own field for one
        changes["prompt"] = _LORA_TAG.sub("", fields["Prompt"]).strip()
        name, weight = loras[0]
        changes["lora"] = name
        try:
            changes["lora_weight"] = float(weight)
        except ValueError:
            pass
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
