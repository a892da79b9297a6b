"""A model's page as the Hub describes it, with its GGUF files grouped by quantization.

Apart from hub/models.py because the quant groups (models/gguf_quants.py) are built from the
Hub's file listing: the card sits above both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from backends.hub.models import EngineName, RepoFile
from backends.models.gguf_quants import QuantGroup


@dataclass(frozen=True)
class ModelCard:
    """Everything the model page shows. `quant_groups` is empty for non-GGUF repos."""

    repo_id: str
    revision: str
    commit: str | None
    readme: str  # Markdown body, YAML front matter removed ("" when the repo has no card)
    tags: tuple[str, ...]
    license: str | None
    task: str | None
    library: str | None
    gated: bool
    private: bool
    downloads: int
    likes: int
    updated: datetime | None
    files: tuple[RepoFile, ...]
    engine: EngineName | None
    quant_groups: tuple[QuantGroup, ...] = field(default=())

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def is_gguf(self) -> bool:
        return bool(self.quant_groups)

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo_id}"
