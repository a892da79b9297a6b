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

from backends.base import ModelSpec, ServerConfig
from backends.errors import GenerationError, UnsupportedModel
from backends.image.protocol import ImageStep
from backends.paths import config_file
from backends.remote.probe import Capability, ServerCapabilities, probe_server

if TYPE_CHECKING:
    from PIL.Image import Image


def server_of(spec: ModelSpec, kind: str) -> ServerConfig:
    """The spec's server, checked to be of `kind`; UnsupportedModel otherwise."""
    if spec.server is None:
        raise UnsupportedModel(
            f"{spec.name} has no server. Add one under [[servers]] in {config_file()} and "
            "pick one of its models."
        )
    return spec.server


def probe_for_load(
    spec: ModelSpec, kind: str, capabilities: tuple[Capability, ...] = ("image",)
) -> tuple[ServerConfig, ServerCapabilities, str]:
    """Probe the spec's server; raise its error (down, wrong kind) or "model missing".

    Returns the server, what it offers, and the model id to send.
    """
    server = server_of(spec, kind)
    offered = probe_server(server, timeout_s=min(server.timeout_s, 10.0))
    if offered.error is not None:
        raise offered.error
    wanted = spec.remote_model or spec.name
    names = [m.id for m in offered.with_capability(*capabilities)]
    if wanted not in names:
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        raise UnsupportedModel(
            f"{server.name} does not have {wanted!r}. It offers {shown or 'no such models'}. "
            "Pick one of those, or add the model on the server.",
            title="Model missing on the server",
        )
    return server, offered, wanted


class StepClock:
    """Turns "the server is at step n of N" into ImageSteps with it/s (after the first step,
    which warms caches, as the local engines count)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.last = 0
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
    return GenerationError(
        f"The connection to {server.name} was cut{at}. Nothing was saved; the last preview "
        "stays on screen. Check that the server is still running, then queue the image again.",
        title="Connection lost",
    )
