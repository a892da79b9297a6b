"""`HostedImageEngine`: the ImageEngine protocol over an EngineHost (backends/host).

The engine object lives in its own process, so:
- unload is exact: the process exits and every byte (and all VRAM) goes back;
- a crash in native code (a bad checkpoint, out of memory) raises EngineCrashed here and
  the app stays up; the next request starts a fresh host and loads the model again;
- cancel ends the job for the caller at once (GenerationCancelled, nothing half-made
  saved), whatever the step length. The host then has `STOP_GRACE_S` to stop at a step
  boundary (diffusers checks the cancel in its step callback); one still inside a long
  native step, or an engine that cannot stop at all (`stops_on_cancel = False`:
  stable-diffusion.cpp), is killed and the model loaded again in a new host in the
  background. The next job waits for that reload; a reload that failed is reported by
  the next job (`HostedEngine`).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator

from backends.errors import BackendError, GenerationError
from backends.host.client import EngineCrashed
from backends.host.hosted_engine import HostedEngine
from backends.image.protocol import (
    GenerationCancelled,
    ImageCapabilities,
    ImageEvent,
    ImageLoadOptions,
    ImageRequest,
    ImageResult,
)

# A step of a small model on a GPU ends well within this; a 17 s CPU step does not, and
# reloading the model is then cheaper for the user than waiting for the step to end.
STOP_GRACE_S = 0.4
KILL_GRACE_S = 0.05  # engines that cannot stop: ended as soon as the cancel reaches them


class HostedImageEngine(HostedEngine[ImageLoadOptions]):
    load_cancel_grace_s = None  # image loads stop between their stages

    def __init__(self, target: str, *, label: str | None = None, use_spare: bool = True) -> None:
        module, _, cls_name = target.partition(":")
        engine_class = getattr(importlib.import_module(module), cls_name)
        super().__init__(engine_class, target, label=label, use_spare=use_spare)
        stops = getattr(engine_class, "stops_on_cancel", True)
        self.cancel_grace_s = STOP_GRACE_S if stops else KILL_GRACE_S
        self._capabilities: ImageCapabilities | None = None

    def _after_load(self) -> None:
        self._capabilities = self.host.call("capabilities")

    def _not_loaded(self) -> BackendError:
        return GenerationError("No image model is loaded. Pick one, then generate again.")

    def capabilities(self) -> ImageCapabilities:
        if self._capabilities is None or self._spec is None:
            raise self._not_loaded()
        return self._capabilities

    def generate(
        self, request: ImageRequest, cancel: threading.Event | None = None
    ) -> Iterator[ImageEvent]:
        self._ready()
        cancel = cancel if cancel is not None else threading.Event()
        finished = False
        for event in self._iterate("generate", request, cancel=cancel):
            if cancel.is_set():
                continue  # a step (or the image) on its way when the user said stop
            finished = isinstance(event, ImageResult)
            yield event
        if not finished:
            raise GenerationCancelled("The image was cancelled; nothing was saved.")

    def unload(self) -> None:
        super().unload()
        self._capabilities = None

    def rss_bytes(self) -> int:
        return self.host.rss_bytes()


__all__ = ["EngineCrashed", "HostedImageEngine"]
