"""Embeddings from a server: `POST /v1/embeddings` (vLLM, llama-server, Ollama, LocalAI,
text-embeddings-inference). Texts go in batches so a long document list never makes one
request the server refuses; vectors come back ordered by their `index`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import ClassVar

from backends.base import ModelSpec, ProgressCallback
from backends.embeddings.protocol import Embeddings
from backends.errors import GenerationError, LoadCancelled
from backends.remote.connection import ServerModel
from backends.remote.http import check, json_body, send

BATCH = 64  # texts per request


class OpenAIEmbeddingEngine:
    name: ClassVar[str] = "openai_embeddings"

    def __init__(self, batch: int = BATCH) -> None:
        self._batch = batch
        self._remote = ServerModel()

    @property
    def loaded(self) -> bool:
        return self._remote.loaded

    def load(
        self,
        spec: ModelSpec,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._remote.open(spec, "openai", ("embeddings",))

    def embed(self, texts: Sequence[str], cancel: threading.Event | None = None) -> Embeddings:
        client, server, model = self._remote.require("embedding")
        vectors: list[tuple[float, ...]] = []
        tokens: int | None = 0
        for start in range(0, len(texts), self._batch):
            if cancel is not None and cancel.is_set():
                raise LoadCancelled("Embedding was stopped.", title="Stopped")
            batch = list(texts[start : start + self._batch])
            response = send(
                client, server, "POST", "embeddings", json={"model": model, "input": batch}
            )
            check(response, server, what="/embeddings", model=model)
            payload = json_body(response, server, "/embeddings")
            try:
                rows = sorted(payload["data"], key=lambda row: int(row.get("index", 0)))
                vectors.extend(tuple(float(v) for v in row["embedding"]) for row in rows)
            except (KeyError, TypeError, ValueError) as error:
                raise GenerationError(
                    f"{server.name} sent embeddings this app cannot read ({error}). Check "
                    "that the model is an embedding model."
                ) from None
            if len(rows) != len(batch):
                raise GenerationError(
                    f"{server.name} returned {len(rows)} vectors for {len(batch)} texts."
                )
            usage = payload.get("usage") or {}
            if tokens is not None and "prompt_tokens" in usage:
                tokens += int(usage["prompt_tokens"])
            else:
                tokens = None
        return Embeddings(tuple(vectors), model, tokens)

    def unload(self) -> None:
        self._remote.close()
