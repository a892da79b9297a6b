"""Embeddings from a server: `POST /v1/embeddings` (vLLM, llama-server, Ollama, LocalAI,
text-embeddings-inference). Texts go in batches so a long document list never makes one
request the server refuses; vectors come back ordered by their `index`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import ClassVar

import httpx

from backends.base import ModelSpec, ProgressCallback, ServerConfig
from backends.embeddings.protocol import Embeddings
from backends.errors import GenerationError, LoadCancelled
from backends.remote.http import check, json_body, make_client, send
from backends.remote.probe import probe_for_load

BATCH = 64  # texts per request


class OpenAIEmbeddingEngine:
    name: ClassVar[str] = "openai_embeddings"

    def __init__(self, batch: int = BATCH) -> None:
        self._batch = batch
        self._client: httpx.Client | None = None
        self._server: ServerConfig | None = None
        self._model: str | None = None

    @property
    def loaded(self) -> bool:
        return self._client is not None

    def load(
        self,
        spec: ModelSpec,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.unload()
        server, _offered, model = probe_for_load(spec, "openai", ("embeddings",))
        self._client, self._server, self._model = make_client(server), server, model

    def embed(self, texts: Sequence[str], cancel: threading.Event | None = None) -> Embeddings:
        client, server, model = self._client, self._server, self._model
        if client is None or server is None or model is None:
            raise GenerationError("No embedding model is loaded.")
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
        if self._client is not None:
            self._client.close()
        self._client, self._server, self._model = None, None, None
