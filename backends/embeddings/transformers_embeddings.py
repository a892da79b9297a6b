"""Embeddings from a local model: the embedding protocol over the task engine's
feature-extraction (mean-pooled, or the repo's sentence-transformers pooling), hosted in an
engine host like every local engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import ClassVar

from backends.base import ModelSpec, ProgressCallback
from backends.embeddings.protocol import Embeddings
from backends.errors import GenerationError, LoadCancelled
from backends.tasks.protocol import (
    BatchFinished,
    Embedding,
    ItemDone,
    ItemFailed,
    TaskEngine,
    TaskInput,
    TaskLoadOptions,
    TaskOptions,
)

TASK = "feature-extraction"
BATCH = 16


def _hosted_task_engine() -> TaskEngine:
    from backends.registry import create_task_engine

    return create_task_engine("transformers_tasks")


class TransformersEmbeddingEngine:
    name: ClassVar[str] = "transformers_embeddings"

    def __init__(self, task_engine: Callable[[], TaskEngine] = _hosted_task_engine) -> None:
        self._make = task_engine
        self._engine: TaskEngine | None = None
        self._model = ""

    @property
    def loaded(self) -> bool:
        return self._engine is not None and self._engine.loaded

    def load(
        self,
        spec: ModelSpec,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.unload()
        engine = self._make()
        engine.load(spec, TaskLoadOptions(TASK), progress=progress, cancel=cancel)
        self._engine, self._model = engine, spec.repo_id or spec.name

    def embed(self, texts: Sequence[str], cancel: threading.Event | None = None) -> Embeddings:
        engine = self._engine
        if engine is None:
            raise GenerationError("No embedding model is loaded.")
        items = [TaskInput("text", text) for text in texts]
        vectors: list[tuple[float, ...]] = []
        tokens = 0
        for event in engine.run(items, TaskOptions(batch_size=BATCH), cancel):
            if isinstance(event, ItemDone) and isinstance(event.result, Embedding):
                vectors.append(event.result.vector)
                tokens += event.result.tokens
            elif isinstance(event, ItemFailed):
                raise GenerationError(f"Text {event.index + 1} could not be embedded: "
                                      f"{event.message}")  # fmt: skip
            elif isinstance(event, BatchFinished) and event.reason == "cancelled":
                raise LoadCancelled("Embedding was stopped.", title="Stopped")
        return Embeddings(tuple(vectors), self._model, tokens)

    def unload(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.unload()
