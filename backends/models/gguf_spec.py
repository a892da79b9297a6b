"""The spec of one GGUF file: a chat model for llama.cpp (with its vision projector beside
it, if any), or a diffusion model for stable-diffusion.cpp.

Its own module so the catalog and the model keys (which turn a `gguf:` key back into a spec)
both read it without importing each other."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from backends.base import ModelSpec


def gguf_spec(path: Path, *, source: str = "path", repo_id: str | None = None) -> ModelSpec:
    """The spec of one GGUF file; the key is its absolute path, stable across runs.

    A GGUF of a diffusion model (FLUX, SD3, Z-Image…) is an image model for
    stable-diffusion.cpp, not a chat model for llama.cpp."""
    resolved = path.expanduser().absolute()
    from backends.image.catalog import gguf_is_diffusion, single_file_spec

    if gguf_is_diffusion(resolved):
        spec = single_file_spec(resolved, repo_id=repo_id)
        return replace(spec, source=source)  # type: ignore[arg-type]
    try:
        size = resolved.stat().st_size
    except OSError:
        size = None
    name = f"{repo_id} · {resolved.name}" if repo_id else resolved.stem
    projector = find_projector(resolved)
    return ModelSpec(
        key=f"gguf:{resolved}",
        name=name,
        engine="llama_cpp",
        path=str(resolved),
        repo_id=repo_id,
        size_bytes=size,
        source=source,  # type: ignore[arg-type]
        projector=str(projector) if projector else None,
    )


def find_projector(model: Path) -> Path | None:
    """The vision projector (an `mmproj*.gguf`) beside a GGUF model, if there is one.

    With several, the one sharing the most of the model's name wins (e.g. the F16 mmproj
    of "gemma-3-4b-it" over another model's), then the first by name.
    """
    try:
        candidates = sorted(
            p for p in model.parent.iterdir() if "mmproj" in p.name.lower() and p.suffix == ".gguf"
        )
    except OSError:
        return None
    if not candidates:
        return None
    stem = model.stem.lower()

    def shared(p: Path) -> int:
        name = p.stem.lower().replace("mmproj-", "").replace("-mmproj", "")
        return len(os.path.commonprefix([name, stem]))

    return max(candidates, key=shared)
