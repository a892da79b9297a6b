"""The loaded model: switching, recents for number shortcuts, and what it holds in memory.

A switch loads the NEW engine first and unloads the previous one only after that load
succeeded, so a failed or cancelled load leaves the user chatting with the model they had.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backends.errors import BackendError, LoadCancelled
from backends.models.usage import USAGE_FILE, record_use
from backends.registry import ENGINE_LABELS, create_engine

if TYPE_CHECKING:
    # backends.base is imported when a spec is first made (the recents are read on first
    # use): its dataclasses cost the first frame ~9 ms to define.
    from backends.base import (
        ChatEngine,
        LoadOptions,
        MemoryFootprint,
        ModelSpec,
        ProgressCallback,
    )
    from backends.settings import Settings

log = logging.getLogger(__name__)

MAX_RECENTS = 9
RECENTS_FILE = "recent_models.json"


class ModelManager:
    """Holds the current engine and spec; safe to call `switch` from a worker thread."""

    def __init__(
        self,
        settings: Settings,
        recents_path: Path | None = None,
        engine_factory: Callable[[str], ChatEngine] = create_engine,
        reread_settings: Callable[[], Settings] | None = None,
    ) -> None:
        """`reread_settings` reads the settings file again: each load then takes the
        per-model options ([models."key"]) as the file says now, so an edited n_ctx
        applies on the next load without a restart."""
        if recents_path is None:
            from backends.paths import data_dir

            recents_path = data_dir() / RECENTS_FILE
        self._settings = settings
        self._reread_settings = reread_settings
        self._recents_path = recents_path
        # Beside the recents: the cache screen's "Last used" (file atimes cannot say it).
        self._usage_path = recents_path.parent / USAGE_FILE
        self._factory = engine_factory
        self._lock = threading.Lock()
        # Held while an answer streams, so a switch never unloads an engine mid-stream.
        self._in_use = threading.Lock()
        self._engine: ChatEngine | None = None
        self._spec: ModelSpec | None = None
        self._recents: list[ModelSpec] | None = None  # read on first use

    @property
    def engine(self) -> ChatEngine | None:
        return self._engine

    @property
    def spec(self) -> ModelSpec | None:
        return self._spec

    def label(self) -> str | None:
        """ "SmolLM2 135M Instruct (demo) · llama.cpp", or None when nothing is loaded."""
        spec = self._spec
        if spec is None:
            return None
        return f"{spec.name} · {ENGINE_LABELS.get(spec.engine, spec.engine)}"

    def footprint(self) -> MemoryFootprint | None:
        engine = self._engine
        if engine is None or not engine.capabilities.holds_memory:
            return None
        try:
            return engine.memory_footprint()
        except Exception:  # a gauge reading must never break the UI
            log.exception("memory_footprint failed")
            return None

    def load_options_for(self, key: str) -> LoadOptions:
        """The model's load options as the settings file says now."""
        if self._reread_settings is None:
            return self._settings.load_options_for(key)
        try:
            return self._reread_settings().load_options_for(key)
        except (ValueError, OSError) as exc:  # a ValidationError or TOML error is a ValueError
            raise BackendError(
                f"The settings file cannot be read now ({exc}). Fix it and load the model again.",
                title="Settings file invalid",
            ) from exc

    def switch(
        self,
        spec: ModelSpec,
        options: LoadOptions | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ChatEngine:
        """Load `spec` in a fresh engine, then unload the previous one; returns the new engine.

        Raises a BackendError (LoadCancelled when `cancel` was set) and keeps the previous
        model loaded if anything goes wrong.
        """
        server = spec.server
        if self._settings.offline and server is not None:
            from backends.models.server_models import is_loopback, offline_refusal

            if not is_loopback(server.base_url):
                error = offline_refusal(server.name, server.base_url)
                raise type(error)(f"{spec.name} was {error.message}", title=error.title)
        if options is None:
            options = self.load_options_for(spec.key)
        try:
            engine = self._factory(spec.engine)
        except BackendError:
            raise
        except Exception as exc:  # e.g. an engine module that failed to import
            log.exception("creating engine %s failed", spec.engine)
            raise BackendError(
                f"The {ENGINE_LABELS.get(spec.engine, spec.engine)} engine could not start: "
                f"{exc}. See the log file for details.",
                title="Engine unavailable",
            ) from exc
        try:
            engine.load(spec, options, progress=progress, cancel=cancel)
            if cancel is not None and cancel.is_set():
                raise LoadCancelled(f"Loading {spec.name} was cancelled.")
        except BaseException as exc:
            _quietly_unload(engine)
            if isinstance(exc, BackendError) or not isinstance(exc, Exception):
                raise
            log.exception("loading %s failed", spec.key)
            raise BackendError(
                f"Loading {spec.name} failed: {exc}. See the log file for details.",
                title="Model failed to load",
            ) from exc
        with self._lock:
            previous, self._engine, self._spec = self._engine, engine, spec
        if previous is not None:
            with self._in_use:
                _quietly_unload(previous)
        self._remember(spec)
        record_use(spec, self._usage_path)
        return engine

    @contextmanager
    def engine_in_use(self) -> Iterator[ChatEngine | None]:
        """The current engine, kept loaded until the block ends (wrap a whole stream in it)."""
        with self._in_use:
            yield self._engine

    def unload(self) -> None:
        """Unload the current model (at exit); the recents stay."""
        with self._lock:
            engine, self._engine, self._spec = self._engine, None, None
        if engine is not None:
            with self._in_use:
                _quietly_unload(engine)

    # -- recents ----------------------------------------------------------------------------

    def recents(self) -> list[ModelSpec]:
        """Most recent first, at most nine: the 1-9 shortcuts.

        A local model whose file or folder is gone (deleted in F4 or by hand) is left out,
        not listed as damaged; it comes back if the file does (the list on disk keeps it).
        """
        return [
            with_server_keys(s, self._settings)
            for s in self._recent_specs()
            if s.server is not None or s.path is None or Path(s.path).exists()
        ]

    def _recent_specs(self) -> list[ModelSpec]:
        with self._lock:
            return self._recents_locked()

    def _recents_locked(self) -> list[ModelSpec]:
        if self._recents is None:
            self._recents = _read_recents(self._recents_path)
        return self._recents

    def _remember(self, spec: ModelSpec) -> None:
        with self._lock:
            self._recents = [spec] + [s for s in self._recents_locked() if s.key != spec.key]
            del self._recents[MAX_RECENTS:]
            recents = list(self._recents)
        try:
            self._recents_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._recents_path.with_suffix(".tmp")
            tmp.write_text(json.dumps([_spec_to_json(s) for s in recents], indent=1))
            tmp.replace(self._recents_path)
        except OSError as exc:
            log.warning("could not save recent models to %s: %s", self._recents_path, exc)


def _quietly_unload(engine: ChatEngine) -> None:
    try:
        engine.unload()
    except Exception:
        log.exception("unload failed")


def _spec_to_json(spec: ModelSpec) -> dict[str, Any]:
    data = asdict(spec)
    if spec.server is not None:
        # Never write a server's API key into a plain file; it comes back from settings.
        data["server"] = {"name": spec.server.name, "base_url": spec.server.base_url}
    return data


def _spec_from_json(data: dict[str, Any]) -> ModelSpec:
    from backends.base import ModelSpec, ServerConfig

    server = data.get("server")
    spec = ModelSpec(**{**data, "server": None})
    if isinstance(server, dict):
        spec = replace(spec, server=ServerConfig(**server))
    return spec


def _read_recents(path: Path) -> list[ModelSpec]:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
        return []
    recents: list[ModelSpec] = []
    for item in raw if isinstance(raw, list) else []:
        try:
            recents.append(_spec_from_json(item))
        except (TypeError, ValueError):
            continue
    return recents[:MAX_RECENTS]


def with_server_keys(spec: ModelSpec, settings: Settings) -> ModelSpec:
    """Restore a recent server model's API key from the settings (it is never saved)."""
    if spec.server is None:
        return spec
    for entry in settings.servers:
        if entry.name == spec.server.name:
            return replace(spec, server=entry.to_config())
    return spec
