"""Image models on disk, found without importing any runtime.

- diffusers pipelines: HF-cache repos and folders (under the user's model dirs) with a
  model_index.json -> engine "diffusers";
- single-file checkpoints (.safetensors, .ckpt) and GGUF files whose metadata names a
  diffusion architecture (or which carry diffusion tensor names) -> engine "sdcpp";
- GGUF transformers that the settings pair with a base pipeline (images.base_pipelines)
  -> engine "diffusers".
"""

from __future__ import annotations

import json
import logging
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from backends.base import ModelSpec

if TYPE_CHECKING:
    from backends.settings import Settings

log = logging.getLogger(__name__)

# general.architecture values of diffusion GGUFs (stable-diffusion.cpp, city96 / ComfyUI-GGUF).
DIFFUSION_ARCHITECTURES = frozenset(
    {
        "sd1",
        "sd2",
        "sdxl",
        "sd3",
        "flux",
        "aura",
        "ltxv",
        "hyvid",
        "wan",
        "hidream",
        "cosmos",
        "lumina2",
        "qwen_image",
        "chroma",
        "z_image",
        "stable-diffusion",
        "hunyuan",
    }
)
# Tensor name starts that only diffusion models use.
_DIFFUSION_TENSORS = (
    b"model.diffusion_model.",
    b"double_blocks.",
    b"single_blocks.",
    b"joint_blocks.",
    b"noise_refiner.",
    b"transformer_blocks.",
)


def pipeline_tag_is_image(pipeline_tag: str | None) -> bool:
    return pipeline_tag in ("text-to-image", "image-to-image")


def gguf_is_diffusion(path: Path) -> bool:
    """True for a GGUF of a diffusion model (architecture key or tensor names); cheap read."""
    try:
        with path.open("rb") as f:
            head = f.read(1 << 18)  # the KV pairs and (for diffusion files) tensor names
    except OSError:
        return False
    if head[:4] != b"GGUF":
        return False
    marker = b"general.architecture"
    at = head.find(marker)
    if at != -1:
        try:
            start = at + len(marker) + 4  # value type (uint32), then the string
            (length,) = struct.unpack_from("<Q", head, start)
            arch = head[start + 8 : start + 8 + length].decode("utf-8", "replace")
        except struct.error:
            arch = ""
        if arch in DIFFUSION_ARCHITECTURES:
            return True
        if arch:
            return False
    return any(name in head for name in _DIFFUSION_TENSORS)


def diffusers_spec(folder: Path, *, repo_id: str | None = None, source: str = "path") -> ModelSpec:
    resolved = folder.absolute()
    return ModelSpec(
        key=f"hf:{repo_id}" if repo_id else f"diffusers:{resolved}",
        name=repo_id or resolved.name,
        engine="diffusers",
        path=str(resolved),
        repo_id=repo_id,
        source=source,  # type: ignore[arg-type]
    )


def single_file_spec(path: Path, *, engine: str = "sdcpp", repo_id: str | None = None) -> ModelSpec:
    resolved = path.absolute()
    try:
        size = resolved.stat().st_size
    except OSError:
        size = None
    return ModelSpec(
        key=f"{engine}:{resolved}",
        name=f"{repo_id} · {resolved.name}" if repo_id else resolved.name,
        engine=engine,
        path=str(resolved),
        repo_id=repo_id,
        size_bytes=size,
        source="hf-cache" if repo_id else "folder",
    )


def discover_image_models(settings: Settings) -> list[ModelSpec]:
    found: list[ModelSpec] = []
    found.extend(_scan_cache())
    for folder in settings.model_dirs:
        found.extend(_scan_folder(Path(folder).expanduser()))
    for gguf in settings.images.base_pipelines:
        path = Path(gguf).expanduser()
        if path.is_file():
            found.append(single_file_spec(path, engine="diffusers"))
    unique: dict[str, ModelSpec] = {}
    for spec in found:
        unique.setdefault(spec.key, spec)
    return list(unique.values())


def _scan_cache() -> list[ModelSpec]:
    try:
        from huggingface_hub import scan_cache_dir
        from huggingface_hub.errors import CacheNotFound
    except ImportError:
        return []
    from backends.hub.client import default_cache_dir

    try:
        info = scan_cache_dir(default_cache_dir())
    except (CacheNotFound, OSError):
        return []
    specs: list[ModelSpec] = []
    for repo in sorted(info.repos, key=lambda r: r.repo_id.lower()):
        if repo.repo_type != "model" or not repo.revisions:
            continue
        revision = max(repo.revisions, key=lambda r: r.last_modified)
        names = {f.file_name for f in revision.files}
        if "model_index.json" in names:
            specs.append(
                diffusers_spec(revision.snapshot_path, repo_id=repo.repo_id, source="hf-cache")
            )
            continue
        for file in revision.files:
            if file.file_name.endswith(".gguf") and gguf_is_diffusion(Path(file.file_path)):
                specs.append(single_file_spec(Path(file.file_path), repo_id=repo.repo_id))
    return specs


def _scan_folder(root: Path) -> list[ModelSpec]:
    if not root.is_dir():
        return []
    specs: list[ModelSpec] = []
    try:
        for index in sorted(root.rglob("model_index.json")):
            specs.append(diffusers_spec(index.parent, source="folder"))
        for path in sorted(root.rglob("*.gguf")):
            if gguf_is_diffusion(path):
                specs.append(single_file_spec(path))
    except OSError as exc:
        log.warning("could not list %s: %s", root, exc)
    return specs


def model_index_class(folder: Path) -> str | None:
    try:
        return str(json.loads((folder / "model_index.json").read_text())["_class_name"])
    except (OSError, ValueError, KeyError):
        return None
