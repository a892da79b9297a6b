"""Does an image model fit on the GPU beside the chat model? (No runtime imported.)

The answer drives the Images screen's offer to unload the chat model first (setting
`images.unload_chat_model`). The estimate is the model's weights on disk with 20 % for
activations, against the most free memory on any NVIDIA GPU NVML reports. With no GPU
there is nothing to decide: CPU models share system RAM, which the gauge shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backends.base import ModelSpec
from backends.device import DeviceSnapshot

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".ckpt", ".pt")
OVERHEAD = 1.2


@dataclass(frozen=True)
class RoomCheck:
    needed: int  # bytes the image model is expected to take
    free: int  # bytes free on the roomiest GPU


def model_bytes(spec: ModelSpec, base_pipeline: str | None = None) -> int:
    """Weights on disk: a file's size, or every weight file under a folder."""
    if spec.size_bytes:
        return spec.size_bytes
    total = 0
    for location in (spec.path, base_pipeline):
        if not location:
            continue
        path = Path(location).expanduser()
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.suffix in WEIGHT_SUFFIXES)
    return total


def gpu_short_of_room(snapshot: DeviceSnapshot, needed_bytes: int) -> RoomCheck | None:
    """A RoomCheck when there is a GPU and none has room for the model; else None."""
    if not snapshot.gpus or needed_bytes <= 0:
        return None
    free = max(gpu.memory_total - gpu.memory_used for gpu in snapshot.gpus)
    needed = int(needed_bytes * OVERHEAD)
    return RoomCheck(needed, free) if free < needed else None
