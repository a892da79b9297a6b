"""The one image model the app holds: which engine runs it, how it was loaded, what it can do.

The Images screen loads through here in a worker; a new load replaces the old model
(unloaded first, so two never sit in memory at once).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from backends.base import ModelSpec, ProgressCallback
from backends.image.protocol import ImageCapabilities, ImageEngine, ImageLoadOptions
from backends.registry import create_image_engine

if TYPE_CHECKING:
    from backends.settings import Settings


def image_load_options(settings: Settings, spec: ModelSpec) -> ImageLoadOptions:
    images = settings.images
    base = images.base_pipelines.get(spec.path or "") or images.base_pipelines.get(spec.key)
    saver = (
        images.memory_saver if images.memory_saver in ("offload", "sequential-offload") else "none"
    )
    return ImageLoadOptions(
        base=settings.load_options_for(spec.key),
        base_pipeline=base,
        memory_saver=saver,  # type: ignore[arg-type]
        vae_tiling=images.vae_tiling,
    )


class ImageModelSession:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engine: ImageEngine | None = None
        self.spec: ModelSpec | None = None
        self.capabilities: ImageCapabilities | None = None
        self._lock = threading.Lock()
        # Held while an image is made: the Images screen's queue and the chat's `/image`
        # share the one engine, so one waits for the other instead of interleaving.
        self.job_lock = threading.Lock()
        self.last_spec: ModelSpec | None = None  # kept after an unload: `/image` reloads it

    @property
    def engine(self) -> ImageEngine | None:
        return self._engine

    def load(
        self,
        spec: ModelSpec,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ImageCapabilities:
        with self._lock:
            self._unload_locked()
            engine = create_image_engine(spec.engine)
            engine.load(
                spec, image_load_options(self._settings, spec), progress=progress, cancel=cancel
            )
            self._engine, self.spec, self.last_spec = engine, spec, spec
            self.capabilities = engine.capabilities()
            return self.capabilities

    def unload(self) -> None:
        with self._lock:
            self._unload_locked()

    def _unload_locked(self) -> None:
        if self._engine is not None:
            self._engine.unload()
        self._engine, self.spec, self.capabilities = None, None, None
