"""Every repo in a cache gets its kind: chat, image, speech, TTS, its task, or its task and
"not supported" (a depth-estimation or transformers TTS repo was listed as a chat model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.errors import UnsupportedModel
from backends.models.cache_inventory import scan_inventory
from backends.models.catalog import scan_hf_cache
from backends.models.model_kind import kind_label, model_kind, unsupported_reason
from tests.fixtures.model_cache import MIXED_REPOS, mixed_cache


def test_each_cached_repo_of_the_catalog_has_its_kind(tmp_path: Path) -> None:
    specs = scan_hf_cache(mixed_cache(tmp_path / "hf"))
    labels = {s.repo_id: kind_label(s) for s in specs}
    assert labels == {repo: label for repo, (_, label) in MIXED_REPOS.items()}
    chat = sorted(s.repo_id or "" for s in specs if model_kind(s) == "chat")
    assert chat == ["org/chat-GGUF", "org/chat-llama"]


def test_the_cache_inventory_shows_the_same_kinds(tmp_path: Path) -> None:
    inventory = scan_inventory(mixed_cache(tmp_path / "hf"), usage={})
    labels = {item.name: item.kind_label for item in inventory.items}
    assert labels == {repo: label for repo, (_, label) in MIXED_REPOS.items()}


def test_an_unsupported_task_says_which_tasks_run(tmp_path: Path) -> None:
    specs = {s.repo_id: s for s in scan_hf_cache(mixed_cache(tmp_path / "hf"))}
    depth = specs["org/dpt-depth"]
    assert model_kind(depth) == "unsupported"
    error = unsupported_reason(depth)
    assert isinstance(error, UnsupportedModel)
    assert error.title == "depth-estimation is not supported"
    assert "token-classification" in error.message and "text-generation" in error.message


@pytest.mark.parametrize("tag", ["text-generation", "image-text-to-text"])
def test_a_chat_tag_keeps_a_repo_a_chat_model(tmp_path: Path, tag: str) -> None:
    from tests.fixtures.model_cache import fake_cache_repo

    readme = f"---\npipeline_tag: {tag}\n---\n".encode()
    files = {"config.json": b"{}", "model.safetensors": b"x", "README.md": readme}
    fake_cache_repo(tmp_path / "hf", "org/m", files)
    (spec,) = scan_hf_cache(tmp_path / "hf" / "hub")
    assert (spec.engine, model_kind(spec), kind_label(spec)) == ("transformers", "chat", "chat")
