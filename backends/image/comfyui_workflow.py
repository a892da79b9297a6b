"""ComfyUI API-format workflows: the built-in text-to-image / image-to-image graph, and the
user's own exported workflows with the form's values put into them.

An API-format workflow is `{node_id: {"class_type": ..., "inputs": {...}}}`, where an input
that is wired to another node is `[node_id, output_index]`. A user's workflow is mapped by
following the sampler's wires: its `positive` / `negative` lead to the prompt encoders, its
`latent_image` to the size (EmptyLatentImage) or to the start image (VAEEncode <- LoadImage).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from backends.errors import UnsupportedModel
from backends.image.protocol import ImageRequest

Workflow = dict[str, dict[str, Any]]
SAMPLER_CLASSES = ("KSampler", "KSamplerAdvanced")
OUTPUT_CLASSES = ("SaveImage", "PreviewImage")


def builtin_workflow(
    request: ImageRequest,
    checkpoint: str,
    *,
    sampler: str = "euler",
    scheduler: str = "normal",
    start_image: str | None = None,
) -> Workflow:
    """Checkpoint -> prompts -> KSampler -> VAE decode -> SaveImage; with `start_image` (a
    name the server's /upload/image returned) the latent is the encoded picture; with a
    LoRA (a name from LoraLoader's list) a LoraLoader sits between the checkpoint and the
    sampler and text encoders, at the request's weight for both model and CLIP."""
    graph: Workflow = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": checkpoint}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": request.prompt, "clip": ["4", 1]}},
        "7": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": request.negative_prompt, "clip": ["4", 1]},
        },
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": request.seed,
                "steps": request.steps,
                "cfg": request.cfg_scale,
                "sampler_name": sampler,
                "scheduler": scheduler,
                "denoise": 1.0,
                "model": ["4", 0],
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
            },
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {
            "class_type": "SaveImage",
            "inputs": {"filename_prefix": "localai-tui", "images": ["8", 0]},
        },
    }
    if start_image is None:
        graph["5"] = {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": request.width, "height": request.height, "batch_size": 1},
        }
    else:
        graph["10"] = {"class_type": "LoadImage", "inputs": {"image": start_image}}
        graph["5"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}}
        graph["3"]["inputs"]["denoise"] = request.strength
    if request.lora:
        graph["11"] = {
            "class_type": "LoraLoader",
            "inputs": {
                "lora_name": request.lora,
                "strength_model": request.lora_weight,
                "strength_clip": request.lora_weight,
                "model": ["4", 0],
                "clip": ["4", 1],
            },
        }
        graph["3"]["inputs"]["model"] = ["11", 0]
        graph["6"]["inputs"]["clip"] = ["11", 1]
        graph["7"]["inputs"]["clip"] = ["11", 1]
    return graph


def read_workflow(path: Path) -> Workflow:
    """A workflow file in ComfyUI's API format; UnsupportedModel with what to do otherwise."""
    try:
        data = json.loads(Path(path).expanduser().read_text())
    except (OSError, ValueError) as error:
        raise UnsupportedModel(f"The workflow {path} cannot be read ({error}).") from None
    if isinstance(data, dict) and "nodes" in data and "links" in data:
        raise UnsupportedModel(
            f"{Path(path).name} is a ComfyUI UI workflow, not the API format. In ComfyUI use "
            "Workflow > Export (API) and point the setting at that file.",
            title="Workflow format",
        )
    if not isinstance(data, dict) or not all(
        isinstance(n, dict) and "class_type" in n for n in data.values()
    ):
        raise UnsupportedModel(f"{Path(path).name} is not a ComfyUI API-format workflow.")
    return data


def map_inputs(
    workflow: Workflow,
    request: ImageRequest,
    *,
    sampler: str | None = None,
    start_image: str | None = None,
    name: str = "the workflow",
) -> Workflow:
    """A copy of `workflow` with the request's prompt, negative, seed, steps, CFG, sampler,
    size and start image in the nodes the sampler is wired to."""
    graph = copy.deepcopy(workflow)
    samplers = [i for i, n in graph.items() if n.get("class_type") in SAMPLER_CLASSES]
    if not samplers:
        raise UnsupportedModel(
            f"{name} has no KSampler node, so the prompt and seed have nowhere to go.",
            title="Workflow not usable",
        )
    for node_id in samplers:
        inputs = graph[node_id]["inputs"]
        for key, value in (
            ("seed", request.seed),
            ("noise_seed", request.seed),
            ("steps", request.steps),
            ("cfg", request.cfg_scale),
        ):
            if key in inputs and not _wired(inputs[key]):
                inputs[key] = value
        if sampler and "sampler_name" in inputs:
            inputs["sampler_name"] = sampler
        _set_text(graph, inputs.get("positive"), request.prompt)
        _set_text(graph, inputs.get("negative"), request.negative_prompt)
        latent = _source(graph, inputs.get("latent_image"))
        if latent is not None and latent.get("class_type", "").startswith("EmptyLatent"):
            latent["inputs"].update(width=request.width, height=request.height)
    if start_image is not None:
        loaders = [n for n in graph.values() if n.get("class_type") == "LoadImage"]
        if not loaders:
            raise UnsupportedModel(
                f"{name} has no LoadImage node, so it cannot start from a picture.",
                title="Workflow not usable",
            )
        loaders[0]["inputs"]["image"] = start_image
    return graph


def output_nodes(workflow: Workflow) -> list[str]:
    return [i for i, n in workflow.items() if n.get("class_type") in OUTPUT_CLASSES]


def _wired(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def _source(graph: Workflow, link: Any) -> dict[str, Any] | None:
    return graph.get(link[0]) if _wired(link) else None


def _set_text(graph: Workflow, link: Any, text: str) -> None:
    """Follow a conditioning wire to its text encoder (through nodes that pass it on)."""
    seen: set[str] = set()
    while _wired(link) and link[0] not in seen:
        seen.add(link[0])
        node = graph.get(link[0]) or {}
        inputs = node.get("inputs", {})
        if "text" in inputs and not _wired(inputs["text"]):
            inputs["text"] = text
            return
        link = inputs.get("conditioning") or inputs.get("conditioning_1")
