"""What every remote image engine shares: checking the server at load, step timing, PNG bytes.

A remote engine holds no model memory here; "load" means: the server answers as its kind,
it has the model, and we know its samplers. Generation runs on the server; the engine turns
the server's progress (polled, pushed or absent) into the protocol's ImageSteps.
"""

from __future__ import annotations

import base64
import io
import time
from typing import TYPE_CHECKING

from backends.base import ServerConfig
from backends.errors import GenerationError, UnsupportedOption
from backends.image.protocol import ImageCapabilities, ImageRequest, ImageStep
from backends.remote.probe import probe_for_load, server_of

__all__ = ["probe_for_load", "server_of"]  # the image engines' one place to import from

if TYPE_CHECKING:
    from PIL.Image import Image


class StepClock:
    """Turns "the server is at step n of N" into ImageSteps with it/s (after the first step,
    which warms caches, as the local engines count)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.last = 0
        self.previewed = False  # a preview went out: the screen holds a look at the picture
        self._first: tuple[int, float] | None = None

    def step(self, step: int, total: int, preview: Image | None = None) -> ImageStep:
        now = time.perf_counter()
        if self._first is None:
            self._first = (step, now)
        first_step, first_at = self._first
        rate = (
            (step - first_step) / (now - first_at) if step > first_step and now > first_at else None
        )
        self.last = step
        self.previewed = self.previewed or preview is not None
        return ImageStep(step, total, now - self.started, rate, preview)

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    @property
    def steps_per_s(self) -> float | None:
        if self._first is None or self.last <= self._first[0]:
            return None
        return (self.last - self._first[0]) / (time.perf_counter() - self._first[1])


def waiting(clock: StepClock) -> ImageStep:
    """An honest "working, no step count" event: total 0 means the server gives no steps."""
    return ImageStep(0, 0, clock.elapsed_s, None)


def decode_image(data: bytes | str, server: ServerConfig) -> Image:
    """A PIL image from PNG/JPEG bytes or base64 text (a data URL's prefix is dropped)."""
    from PIL import Image as PILImage

    try:
        if isinstance(data, str):
            data = base64.b64decode(data.split(",", 1)[1] if data.startswith("data:") else data)
        image = PILImage.open(io.BytesIO(data))
        image.load()
    except Exception as error:  # PIL raises many kinds for bad bytes
        raise GenerationError(
            f"{server.name} sent an image this app cannot read ({error}). Check the server's log."
        ) from error
    return image.convert("RGB") if image.mode not in ("RGB", "RGBA") else image


def encode_file(path: str) -> str:
    """A start image file as base64 text (A1111 and the OpenAI edits take it so)."""
    with open(path, "rb") as file:
        return base64.b64encode(file.read()).decode("ascii")


def dropped(server: ServerConfig, clock: StepClock, total: int | None) -> GenerationError:
    at = f" at step {clock.last}/{total}" if total and clock.last else ""
    kept = (
        "The last preview stays on screen (a preview, not the finished picture, so it is not "
        "saved)."
        if clock.previewed
        else "Nothing was made yet to keep."
    )
    return GenerationError(
        f"The connection to {server.name} was cut{at}. {kept} Check that the server is still "
        "running, then queue the image again.",
        title="Connection lost",
    )


def check_server_lora(request: ImageRequest, caps: ImageCapabilities, server: ServerConfig) -> None:
    """UnsupportedOption when the request names a LoRA the server does not list."""
    if request.lora is None or request.lora in caps.server_loras:
        return
    listed = ", ".join(caps.server_loras[:8]) or "none"
    raise UnsupportedOption(
        f"{server.name} has no LoRA {request.lora!r}. It lists: {listed}. Pick one of those in "
        "the LoRA field, or add the file on the server.",
        title="LoRA not on the server",
    )
