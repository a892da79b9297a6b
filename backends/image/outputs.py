"""Where finished images go: a PNG with its parameters chunk, then a gallery row."""

from __future__ import annotations

import time
from pathlib import Path

from backends.errors import StorageError
from backends.image.model_hash import lora_hash
from backends.image.png_metadata import format_parameters, save_png
from backends.image.protocol import ImageResult
from backends.store.gallery import GalleryImage, GalleryStore


def next_png_path(folder: Path, seed: int, when: float | None = None) -> Path:
    """`<folder>/<YYYY-MM-DD>/<HHMMSS>-<seed>.png`, with a suffix if that name is taken."""
    stamp = time.localtime(time.time() if when is None else when)
    day = folder / time.strftime("%Y-%m-%d", stamp)
    stem = f"{time.strftime('%H%M%S', stamp)}-{seed}"
    path = day / f"{stem}.png"
    n = 1
    while path.exists():
        n += 1
        path = day / f"{stem}-{n}.png"
    return path


def save_result(
    result: ImageResult,
    *,
    model: str,
    outputs_dir: Path,
    gallery: GalleryStore,
    model_hash: str | None = None,
) -> GalleryImage:
    """Write the PNG (A1111 `parameters` chunk) and its gallery row; return the row."""
    request = result.request
    parameters = format_parameters(
        request,
        sampler=result.sampler,
        model=model,
        model_hash=model_hash,
        lora_hash=result.lora_hash or (lora_hash(request.lora) if request.lora else None),
    )
    path = next_png_path(outputs_dir, request.seed)
    try:
        save_png(result.image, path, parameters)
    except OSError as exc:
        raise StorageError(
            f"Could not write {path} ({exc}). Check free space and the outputs folder "
            "setting (images.outputs_dir).",
            title="Image not saved",
        ) from exc
    return gallery.add(
        path,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        parameters=parameters,
        model=model,
        seed=request.seed,
        width=result.image.width,
        height=result.image.height,
    )
