"""The one image model the app holds: which engine runs it, how it was loaded, what it can do.

The Images screen loads through here in a worker; a new load replaces the old model
(unloaded first, so two never sit in memory at once). The last model loaded is remembered in
`last_image_model.json` in the data dir, so the next run can offer it (and load it when the
user first generates). Its A1111 `Model hash` is worked out in the background after a load.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from backends.base import ModelSpec, ProgressCallback
from backends.image.protocol import ImageCapabilities, ImageEngine, ImageLoadOptions
from backends.models.usage import record_use
from backends.registry import create_image_engine

if TYPE_CHECKING:
    from backends.settings import Settings

log = logging.getLogger(__name__)

LAST_MODEL_FILE = "last_image_model.json"


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


def _last_model_path() -> Path:
    from backends.paths import data_dir

    return data_dir() / LAST_MODEL_FILE


def remember_model(spec: ModelSpec) -> None:
    """Write the spec as the chat's recents are written: a server's key never goes to disk."""
    from backends.models.manager import _spec_to_json

    path = _last_model_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(_spec_to_json(spec), indent=1))
        partial.replace(path)
    except OSError as exc:
        log.warning("could not remember the image model in %s: %s", path, exc)


def last_model(settings: Settings) -> ModelSpec | None:
    """The image model loaded last time (any run), a server's key restored from settings."""
    from backends.models.manager import _spec_from_json, with_server_keys

    try:
        return with_server_keys(
            _spec_from_json(json.loads(_last_model_path().read_text())), settings
        )
    except (OSError, ValueError, TypeError):
        return None


class ImageModelSession:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engine: ImageEngine | None = None
        self.spec: ModelSpec | None = None
        self.capabilities: ImageCapabilities | None = None
        self._lock = threading.Lock()
        self._hash: tuple[ModelSpec, threading.Thread, list[str | None]] | None = None
        # Held while an image is made: the Images screen's queue and the chat's `/image`
        # share the one engine, so one waits for the other instead of interleaving.
        self.job_lock = threading.Lock()

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
            self._engine, self.spec = engine, spec
            self.capabilities = engine.capabilities()
        remember_model(spec)
        record_use(spec)
        self._start_hash(spec)
        return self.capabilities

    def _start_hash(self, spec: ModelSpec) -> None:
        from backends.image.model_hash import model_hash

        box: list[str | None] = []
        thread = threading.Thread(
            target=lambda: box.append(model_hash(spec)), name="image-model-hash", daemon=True
        )
        self._hash = (spec, thread, box)
        thread.start()

    def model_hash(self) -> str | None:
        """A1111's short hash of the loaded model's weights (waits for the background read
        started at load; None when there is no single weights file)."""
        current = self._hash
        if current is None or current[0] != self.spec:
            return None
        current[1].join()
        return current[2][0] if current[2] else None

    def unload(self) -> None:
        with self._lock:
            self._unload_locked()

    def _unload_locked(self) -> None:
        if self._engine is not None:
            self._engine.unload()
        self._engine, self.spec, self.capabilities = None, None, None
