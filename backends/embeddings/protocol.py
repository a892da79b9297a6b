"""The embedding contract: texts in, one vector per text out, in order.

Synchronous and blocking like every engine call; callers choose the thread. Small on
purpose: document search (a later feature) needs texts -> vectors and the vector size.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from backends.base import ModelSpec, ProgressCallback


@dataclass(frozen=True)
class Embeddings:
    """One vector per input text, in the order given."""

    vectors: tuple[tuple[float, ...], ...]
    model: str
    prompt_tokens: int | None = None

    @property
    def dimensions(self) -> int:
        return len(self.vectors[0]) if self.vectors else 0


@runtime_checkable
class EmbeddingEngine(Protocol):
    name: ClassVar[str]

    def load(
        self,
        spec: ModelSpec,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Get ready to embed with `spec`; a BackendError subclass with a clear message."""
        ...

    def embed(self, texts: Sequence[str], cancel: threading.Event | None = None) -> Embeddings:
        """One vector per text, in order; LoadCancelled-style errors are BackendErrors."""
        ...

    def unload(self) -> None:
        """Release what load took; safe to call twice."""
        ...

    @property
    def loaded(self) -> bool: ...
