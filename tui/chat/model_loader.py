"""Loads models off the UI thread and reports back; it draws nothing.

`load(spec)` runs `ModelManager.switch` in a thread worker (the previous model stays
until the new one is ready); a newer `load` or `cancel()` sets the running load's cancel
event. Results arrive as messages that bubble to the screen: `Progressed`, `Loaded`,
`Failed` (LoadCancelled included).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.message import Message
from textual.widget import Widget

from backends.errors import BackendError

if TYPE_CHECKING:
    from backends.base import LoadProgress, ModelSpec
    from backends.models.manager import ModelManager
    from backends.settings import Settings


class ModelLoader(Widget):
    DEFAULT_CSS = "ModelLoader { display: none; }"

    @dataclass
    class Progressed(Message):
        spec: ModelSpec
        progress: LoadProgress

    @dataclass
    class Loaded(Message):
        spec: ModelSpec

    @dataclass
    class Failed(Message):
        spec: ModelSpec
        error: BackendError

    @dataclass
    class _Finished(Message):
        spec: ModelSpec
        error: BackendError | None

    def __init__(self, manager: ModelManager, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.manager = manager
        self._cancel: threading.Event | None = None
        self.loading: ModelSpec | None = None

    def load(self, spec: ModelSpec) -> None:
        if self._cancel is not None:
            self._cancel.set()
        self._cancel = cancel = threading.Event()
        self.loading = spec
        self._load(spec, cancel)

    def cancel(self) -> bool:
        """Cancel the running load; False when nothing is loading."""
        if self._cancel is None:
            return False
        self._cancel.set()
        return True

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, spec: ModelSpec, cancel: threading.Event) -> None:
        def progress(update: LoadProgress) -> None:
            self.post_message(self.Progressed(spec, update))

        try:
            self.manager.switch(spec, progress=progress, cancel=cancel)
        except BackendError as exc:
            self.post_message(self._Finished(spec, exc))
            return
        self.post_message(self._Finished(spec, None))

    @on(_Finished)
    def _finished(self, message: _Finished) -> None:
        message.stop()
        if message.spec is self.loading:
            self.loading, self._cancel = None, None
        if message.error is None:
            self.post_message(self.Loaded(message.spec))
        else:
            self.post_message(self.Failed(message.spec, message.error))

    @work(thread=True, group="startup-model", exit_on_error=False)
    def load_startup_model(self, settings: Settings) -> None:
        """The configured default, else the most recent model still on disk, else the demo."""
        from backends.models.catalog import demo_spec, spec_from_cli

        spec: ModelSpec | None = None
        if settings.default_model:
            try:
                spec = spec_from_cli(settings.default_model, None, settings)
            except BackendError as exc:
                self.post_message(self.Failed(_named(settings.default_model), exc))
        if spec is None:
            # A recent model whose file was deleted since is skipped, not an error at start.
            usable = (s for s in self.manager.recents() if s.path is None or Path(s.path).exists())
            spec = next(usable, None) or demo_spec()
        if spec is not None:
            self.app.call_from_thread(self.load, spec)

    def on_worker_state_changed(self, event) -> None:  # type: ignore[no-untyped-def]
        self.app.report_worker_failure(event)  # type: ignore[attr-defined]


def _named(text: str) -> ModelSpec:
    from backends.base import ModelSpec

    return ModelSpec(key=text, name=text, engine="")
