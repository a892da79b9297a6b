"""One loaded model of a kind, loaded lazily and swapped safely: what the speech-to-text
and the text-to-speech managers share.

The settings name a model (a server's, a folder, a key, repo id or name) or none (the first
one found). A load keeps the old model until the new one is in, so a failed switch leaves
the user with what worked. Loading holds the lock the manager's calls hold while they run,
so a switch waits for a running transcription or speech.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from backends.base import ModelSpec, ProgressCallback
from backends.errors import ModelNotFound
from backends.models.usage import record_use

if TYPE_CHECKING:
    from backends.settings import Settings

log = logging.getLogger(__name__)


class _Loadable(Protocol):
    def load(
        self,
        spec: ModelSpec,
        options: Any,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None: ...

    def unload(self) -> None: ...


EngineT = TypeVar("EngineT", bound=_Loadable)


class ModelSlot(Generic[EngineT]):
    kind = "model"  # "speech", "text-to-speech": for messages

    def __init__(
        self,
        settings: Settings,
        engine_factory: Callable[[str], EngineT],
        discover: Callable[[], list[ModelSpec]] | None,
    ) -> None:
        self._settings = settings
        self._factory = engine_factory
        self._discover = discover or self._discover_local
        self._lock = threading.Lock()  # held while loading or running
        self._engine: EngineT | None = None
        self._spec: ModelSpec | None = None

    # -- what a kind says --------------------------------------------------------------

    def _is_mine(self, spec: ModelSpec) -> bool:
        raise NotImplementedError

    def _folder_spec(self, folder: Path) -> ModelSpec | None:
        """A spec for a model folder named in the settings, None when it is not one."""
        raise NotImplementedError

    def _load_options(self) -> Any:
        raise NotImplementedError

    def _missing(self, wanted: str | None) -> ModelNotFound:
        """What to say when `wanted` (None: any model) is not here."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------

    @property
    def spec(self) -> ModelSpec | None:
        return self._spec

    def available(self) -> list[ModelSpec]:
        """Every model of this kind found locally (HF cache and the user's model folders)."""
        return [s for s in self._discover() if self._is_mine(s)]

    def _discover_local(self) -> list[ModelSpec]:
        from backends.models.catalog import discover_models

        return discover_models(self._settings)

    def _pick_spec(self, wanted: str | None) -> ModelSpec:
        """The model `wanted` names, else the first one found; ModelNotFound if none."""
        if wanted:
            from backends.models.server_models import remote_model_spec

            remote = remote_model_spec(wanted, self._settings)
            if remote is not None:  # "openai_stt:<server>/<model>": a server's model
                return remote
            folder = Path(wanted).expanduser()
            if folder.is_dir():
                spec = self._folder_spec(folder)
                if spec is not None:
                    return spec
        found = self.available()
        for spec in found:
            if wanted in (spec.key, spec.repo_id, spec.name):
                return spec
        if wanted or not found:
            raise self._missing(wanted or None)
        return found[0]

    def load(
        self,
        spec: ModelSpec,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Load `spec` (a no-op when it is already loaded); keeps the old one on failure."""
        with self._lock:
            self._load_locked(spec, progress, cancel)

    def _load_locked(
        self, spec: ModelSpec, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> None:
        if self._spec is not None and self._spec.key == spec.key:
            return
        engine = self._factory(spec.engine)
        try:
            engine.load(spec, self._load_options(), progress=progress, cancel=cancel)
        except BaseException:
            self._quietly_unload(engine)
            raise
        previous, self._engine, self._spec = self._engine, engine, spec
        if previous is not None:
            self._quietly_unload(previous)
        record_use(spec)

    def unload(self) -> None:
        with self._lock:
            engine, self._engine, self._spec = self._engine, None, None
        if engine is not None:
            self._quietly_unload(engine)

    def _quietly_unload(self, engine: EngineT) -> None:
        try:
            engine.unload()
        except Exception:
            log.exception("unloading the %s engine failed", self.kind)
