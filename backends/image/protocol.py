"""The image-engine contract, its request and the typed events it yields.

Engine calls are synchronous and blocking; callers choose the thread (or process: every type
here is a picklable dataclass, PIL images included, so an engine host can carry them).
`generate` yields `ImageStep`s, then exactly one `ImageResult` per image. Setting the
`cancel` event stops it within one denoising step by raising `GenerationCancelled`;
nothing half-made is returned.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from backends.base import LoadOptions, ModelSpec, ProgressCallback
from backends.errors import BackendError

if TYPE_CHECKING:
    from PIL.Image import Image

MemorySaver = Literal["none", "offload", "sequential-offload"]


class GenerationCancelled(BackendError):
    """The user stopped this image; nothing was saved."""

    title = "Image cancelled"


@dataclass(frozen=True)
class ImageLoadOptions:
    """How to load an image model. Engines ignore what does not apply to them."""

    base: LoadOptions = field(default_factory=LoadOptions)  # device and dtype
    # A GGUF-quantized transformer needs the pipeline it belongs in (a diffusers folder or a
    # repo id in the HF cache): its text encoders, VAE, scheduler and the transformer config.
    base_pipeline: str | None = None
    memory_saver: MemorySaver = "none"  # CUDA only: model / sequential CPU offload
    vae_tiling: bool = False  # CUDA only: decode big images in tiles
    threads: int | None = None  # stable-diffusion.cpp: None = cores - 1


@dataclass(frozen=True)
class ImageRequest:
    """One image to make. `seed` is always concrete: the caller resolves "random"."""

    prompt: str
    negative_prompt: str = ""
    steps: int = 20
    cfg_scale: float = 7.0
    seed: int = 0
    width: int = 512
    height: int = 512
    scheduler: str | None = None  # None: the model's own
    lora: str | None = None  # a .safetensors file, or a name the server lists (server_loras)
    lora_weight: float = 1.0
    init_image: str | None = None  # a PNG path: image-to-image
    strength: float = 0.6  # image-to-image: how much of the start image is repainted
    live_preview: bool = True  # cheap previews while it runs (not part of the saved parameters)


@dataclass(frozen=True)
class ImageStep:
    """One denoising step done (1-based `step` of `total`)."""

    step: int
    total: int
    elapsed_s: float
    steps_per_s: float | None  # over the steps after the first (the first warms caches)
    preview: Image | None = None  # a cheap look at the picture so far (some steps only)

    @property
    def eta_s(self) -> float | None:
        if not self.steps_per_s:
            return None
        return (self.total - self.step) / self.steps_per_s


@dataclass(frozen=True)
class ImageResult:
    """The finished picture and what made it."""

    image: Image
    request: ImageRequest
    sampler: str  # the scheduler actually used, by name
    total_s: float
    steps_per_s: float | None
    lora_hash: str | None = None  # the LoRA's A1111 short hash, where a server reported it


ImageEvent = ImageStep | ImageResult


@dataclass(frozen=True)
class ImageCapabilities:
    """What the Images screen may offer for the loaded model; it never looks at class names."""

    negative_prompt: bool = True
    cfg: bool = True
    schedulers: tuple[str, ...] = ()  # names the user may pick; empty: only the model's own
    lora: bool = False
    # LoRAs the server has (A1111's /sdapi/v1/loras, ComfyUI's LoraLoader): when given, the
    # LoRA field takes one of these names instead of a file path.
    server_loras: tuple[str, ...] = ()
    image_to_image: bool = False
    size_multiple: int = 8  # width and height must be multiples of this
    default_size: tuple[int, int] = (512, 512)
    default_steps: int = 20
    default_cfg: float = 7.0


def check_size(width: int, height: int, multiple: int) -> str | None:
    """Why this size cannot be made, or None when it can."""
    for label, value in (("Width", width), ("Height", height)):
        if value < multiple:
            return f"{label} {value} is too small; use at least {multiple}."
        if value % multiple:
            lower = value - value % multiple
            return (
                f"{label} {value} is not a multiple of {multiple} (this model's rule); "
                f"use {lower} or {lower + multiple}."
            )
    return None


@runtime_checkable
class ImageEngine(Protocol):
    name: ClassVar[str]

    def load(
        self,
        spec: ModelSpec,
        options: ImageLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Load the model; raise a BackendError subclass with a clear message on failure."""
        ...

    def capabilities(self) -> ImageCapabilities:
        """What the loaded model supports (they differ by pipeline)."""
        ...

    def generate(
        self, request: ImageRequest, cancel: threading.Event | None = None
    ) -> Iterator[ImageEvent]:
        """Yield ImageSteps then one ImageResult; GenerationCancelled within a step of `cancel`."""
        ...

    def unload(self) -> None:
        """Release the model and its memory; safe to call twice."""
        ...

    @property
    def loaded(self) -> bool: ...


def describe(value: Any) -> str:
    """A short name for a scheduler object or class (for the `Sampler:` field)."""
    name = value if isinstance(value, str) else type(value).__name__
    return name.removesuffix("Scheduler") if name.endswith("Scheduler") else name
