"""`HostedImageEngine`: the ImageEngine protocol over an EngineHost (backends/host).

The engine object lives in its own process, so:
- unload is exact: the process exits and every byte (and all VRAM) goes back;
- a crash in native code (a bad checkpoint, out of memory) raises EngineCrashed here and
  the app stays up; the next request starts a fresh host and loads the model again;
- cancel always stops the computation: engines whose step callback honours `cancel`
  (diffusers) stop within a step; engines that cannot stop a native call
  (`stops_on_cancel = False`: stable-diffusion.cpp) have their process ended at once, and
  the model is loaded again in a new host in the background.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterator

from backends.base import ModelSpec, ProgressCallback
from backends.errors import BackendError, GenerationError
from backends.host.client import EngineCrashed, EngineHost
from backends.image.protocol import (
    GenerationCancelled,
    ImageCapabilities,
    ImageEvent,
    ImageLoadOptions,
    ImageRequest,
)

log = logging.getLogger(__name__)

KILL_GRACE_S = 0.3  # engines that cannot stop: this long after cancel, the host is ended


class HostedImageEngine:
    def __init__(self, target: str, *, label: str | None = None, use_spare: bool = True) -> None:
        module, _, cls_name = target.partition(":")
        engine_class = getattr(importlib.import_module(module), cls_name)
        self.name: str = engine_class.name
        self._stops_on_cancel: bool = getattr(engine_class, "stops_on_cancel", True)
        self.host = EngineHost(target, label=label or self.name, use_spare=use_spare)
        self._spec: ModelSpec | None = None
        self._options: ImageLoadOptions | None = None
        self._capabilities: ImageCapabilities | None = None
        self._reviver: threading.Thread | None = None
        self._revive_error: BackendError | None = None

    @property
    def loaded(self) -> bool:
        return self._spec is not None

    def load(
        self,
        spec: ModelSpec,
        options: ImageLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._wait_for_reviver()
        self._spec = None
        try:
            self.host.call("load", spec, options, progress=progress, cancel=cancel)
            self._capabilities = self.host.call("capabilities")
        except BaseException:
            self.host.close()  # a failed load leaves no process behind
            raise
        self._spec, self._options = spec, options

    def capabilities(self) -> ImageCapabilities:
        if self._capabilities is None:
            raise GenerationError("No image model is loaded. Pick one, then generate again.")
        return self._capabilities

    def generate(
        self, request: ImageRequest, cancel: threading.Event | None = None
    ) -> Iterator[ImageEvent]:
        self._wait_for_reviver()
        if self._revive_error is not None:
            error, self._revive_error = self._revive_error, None
            raise error
        if self._spec is None:
            raise GenerationError("No image model is loaded. Pick one, then generate again.")
        if not self.host.alive:  # it crashed or was ended since the last image
            self._reload()
        cancel = cancel if cancel is not None else threading.Event()
        grace = None if self._stops_on_cancel else KILL_GRACE_S
        finished = False
        try:
            for event in self.host.iterate("generate", request, cancel=cancel, grace_s=grace):
                finished = finished or not hasattr(event, "step")
                yield event
        except GenerationCancelled:
            if not self._stops_on_cancel and self.host.alive:
                self.host.kill()  # its native call runs on: end it, reload in the background
                self._revive_in_background()
            raise
        if finished:
            return
        if not self.host.alive:  # ended after the grace: the native call would not stop
            self._revive_in_background()
        raise GenerationCancelled("The image was cancelled; nothing was saved.")

    def unload(self) -> None:
        self._wait_for_reviver()
        self._spec, self._options, self._capabilities = None, None, None
        self.host.close()

    # -- replacing a dead host ----------------------------------------------------------------

    def _reload(self) -> None:
        if self._spec is None or self._options is None:
            raise GenerationError("No image model is loaded. Pick one, then generate again.")
        self.host.start()
        self.host.call("load", self._spec, self._options)

    def _revive_in_background(self) -> None:
        def revive() -> None:
            try:
                self._reload()
            except BackendError as error:
                self._revive_error = error
            except Exception as error:
                log.exception("reloading the image model in a new host failed")
                self._revive_error = BackendError(
                    f"Reloading the image model after a cancel failed: {error}. Load it again.",
                    title="Model reload failed",
                )

        self._reviver = threading.Thread(target=revive, name="image-host-revive", daemon=True)
        self._reviver.start()

    def _wait_for_reviver(self) -> None:
        reviver, self._reviver = self._reviver, None
        if reviver is not None:
            reviver.join()

    def rss_bytes(self) -> int:
        return self.host.rss_bytes()


__all__ = ["EngineCrashed", "HostedImageEngine"]
