"""The loaded task model, for the Tasks screen: load with a task, run batches, unload.

Safe to call from worker threads: a load waits for a running batch (the lock is held
while a batch runs). The engine is made on first use (a hosted proxy by default), so the
app pays nothing until the Tasks screen loads a model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence

from backends.base import ModelSpec, ProgressCallback
from backends.errors import BackendError
from backends.registry import create_task_engine
from backends.tasks.protocol import (
    TaskEngine,
    TaskEvent,
    TaskInput,
    TaskLoadOptions,
    TaskModelInfo,
    TaskOptions,
)

ENGINE = "transformers_tasks"


class TaskSession:
    def __init__(
        self,
        engine_factory: Callable[[str], TaskEngine] = create_task_engine,
        *,
        threads: int | None = None,
    ) -> None:
        self._factory = engine_factory
        # Like the other local engines: one core fewer than there are, for the UI.
        self._threads = threads if threads is not None else max(1, (os.cpu_count() or 2) - 1)
        self._lock = threading.Lock()
        self._engine: TaskEngine | None = None
        self._spec: ModelSpec | None = None
        self._info: TaskModelInfo | None = None

    @property
    def spec(self) -> ModelSpec | None:
        return self._spec

    @property
    def info(self) -> TaskModelInfo | None:
        return self._info

    def label(self) -> str | None:
        """ "org/bert-ner · token-classification · cpu float32", or None."""
        spec, info = self._spec, self._info
        if spec is None or info is None:
            return None
        return " · ".join(part for part in (spec.name, info.task, info.runtime) if part)

    def load(
        self,
        spec: ModelSpec,
        task: str,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> TaskModelInfo:
        with self._lock:
            if self._engine is None:
                self._engine = self._factory(ENGINE)
            self._spec, self._info = None, None
            options = TaskLoadOptions(task=task, threads=self._threads)
            self._engine.load(spec, options, progress=progress, cancel=cancel)
            self._spec, self._info = spec, self._engine.model_info()
            return self._info

    def run(
        self,
        items: Sequence[TaskInput],
        options: TaskOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[TaskEvent]:
        with self._lock:
            engine = self._engine
            if engine is None or self._info is None:
                raise BackendError(
                    "No task model is loaded. Press ctrl+o to pick one.", title="No model"
                )
            yield from engine.run(items, options, cancel)

    def unload(self) -> None:
        engine, self._engine = self._engine, None
        self._spec, self._info = None, None
        if engine is not None:
            engine.unload()
