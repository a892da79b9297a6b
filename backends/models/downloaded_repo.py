"""The models one downloaded repo holds, as the pickers list them: what the Hub card's run
key opens. Reads the cached snapshot only (no network, no runtime imported)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from backends.base import ModelSpec
from backends.models.cache_inventory import snapshot_dir
from backends.models.catalog import is_loadable_gguf, repo_spec
from backends.models.gguf_spec import gguf_spec


def downloaded_specs(cache_dir: Path, repo_id: str, revision: str = "main") -> list[ModelSpec]:
    """A diffusers pipeline, a Whisper or voice folder, a transformers model (chat, task, or
    a task not run here), and each loadable GGUF file of `revision`; [] when it is not on
    disk (or holds no model yet, a download under way)."""
    snapshot = snapshot_dir(cache_dir, repo_id, revision)
    if snapshot is None:
        return []
    files = sorted(p for p in snapshot.rglob("*") if p.is_file())
    names = {p.name for p in files}
    size = sum(p.stat().st_size for p in files)
    specs: list[ModelSpec] = []
    spec = repo_spec(repo_id, snapshot, names, size)
    if spec is not None:
        specs.append(spec)
    if "model_index.json" in names:
        return specs
    for path in files:
        if is_loadable_gguf(path):
            gguf = gguf_spec(path, source="hf-cache", repo_id=repo_id)
            specs.append(replace(gguf, size_bytes=path.stat().st_size))
    return specs
