"""Cache manager (list, sizes, engines, delete) and offline behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.errors import OfflineError
from backends.hub.client import HubClient
from backends.hub.models import SearchQuery
from backends.models.cache_inventory import delete, plan_delete, plan_delete_repo, scan_inventory
from tests.fixtures.hub_server import HubServer


def _download(make_queue, repo: str, patterns: list[str]) -> None:
    q = make_queue()
    job = q.add(repo, allow_patterns=patterns)
    assert q.wait(job, ["done", "failed"]).state == "done"


def _apparent_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.fixture
def filled_cache(hub: HubServer, cache_dir: Path, make_queue) -> Path:
    _download(make_queue, "acme/tiny-chat-GGUF", ["tiny-chat-Q4_K_M.gguf"])
    _download(make_queue, "acme/tiny-llama", ["*.json", "*.safetensors"])
    _download(make_queue, "other/tiny-sd", ["*"])
    return cache_dir


def test_inventory_lists_cache_and_folders(filled_cache: Path, tmp_path: Path) -> None:
    folder = tmp_path / "my-ggufs"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "local-Q4_0.gguf").write_bytes(b"GGUF" + bytes(1000))
    inv = scan_inventory(filled_cache, [folder, tmp_path / "missing"])
    rows = {i.name: i for i in inv.items}
    assert rows["acme/tiny-chat-GGUF"].engine == "llama_cpp"
    assert rows["acme/tiny-llama"].engine == "transformers"
    assert rows["other/tiny-sd"].engine == "diffusers"
    assert rows["local-Q4_0.gguf"].source == "folder" and rows["local-Q4_0.gguf"].size_bytes == 1004
    assert rows["acme/tiny-chat-GGUF"].size_bytes == 300_000
    assert rows["acme/tiny-chat-GGUF"].revisions[0].refs == ("main",)
    assert [i.name for i in inv.sorted("size")][0] == "acme/tiny-chat-GGUF"
    assert any("missing" in w for w in inv.warnings)


def test_last_used_is_when_the_app_loaded_it_not_the_file_atime(filled_cache: Path) -> None:
    from backends.base import ModelSpec
    from backends.models.usage import record_use

    assert all(i.last_used is None for i in scan_inventory(filled_cache).items)  # never loaded
    gguf = next(i for i in scan_inventory(filled_cache).items if i.name == "acme/tiny-chat-GGUF")
    snapshot = gguf.revisions[0].snapshot_path
    spec = ModelSpec(
        key=f"gguf:{snapshot}/tiny-chat-Q4_K_M.gguf",
        name="tiny",
        engine="llama_cpp",
        path=str(snapshot / "tiny-chat-Q4_K_M.gguf"),
        repo_id="acme/tiny-chat-GGUF",
        source="hf-cache",
    )
    record_use(spec, when=1_700_000_000.0)
    rows = {i.name: i for i in scan_inventory(filled_cache).items}
    assert rows["acme/tiny-chat-GGUF"].last_used == 1_700_000_000.0
    assert rows["acme/tiny-chat-GGUF"].revisions[0].last_used == 1_700_000_000.0
    assert rows["acme/tiny-llama"].last_used is None


def test_delete_repo_frees_bytes_on_disk(filled_cache: Path) -> None:
    before = _apparent_size(filled_cache)
    plan = plan_delete_repo(filled_cache, "acme/tiny-chat-GGUF")
    assert plan.expected_freed_bytes == 300_000
    freed = delete(plan)
    assert freed >= 300_000
    assert before - _apparent_size(filled_cache) == freed
    assert not (filled_cache / "models--acme--tiny-chat-GGUF").exists()
    names = {i.name for i in scan_inventory(filled_cache).items}
    assert names == {"acme/tiny-llama", "other/tiny-sd"}


def test_delete_revision(filled_cache: Path) -> None:
    item = next(i for i in scan_inventory(filled_cache).items if i.name == "other/tiny-sd")
    plan = plan_delete(filled_cache, [item.revisions[0].commit])
    assert plan.expected_freed_bytes == item.size_bytes
    assert delete(plan) >= item.size_bytes


def test_offline_fails_fast_and_cache_still_lists(filled_cache: Path, hub: HubServer) -> None:
    offline = HubClient(hub.endpoint, None, True, cache_dir=filled_cache)
    served = len(hub.requests)
    with pytest.raises(OfflineError):
        offline.search(SearchQuery(text="chat"))
    with pytest.raises(OfflineError):
        offline.model_card("acme/tiny-llama")
    assert len(hub.requests) == served  # nothing went out
    assert len(scan_inventory(filled_cache).items) == 3


def test_unreachable_hub_raises_offline_quickly(cache_dir: Path) -> None:
    client = HubClient("http://127.0.0.1:9", None, False, cache_dir=cache_dir)
    with pytest.raises(OfflineError) as info:
        client.search(SearchQuery(text="x"))
    assert "Can't reach the Hub" in str(info.value)


def test_offline_download_fails_fast(cache_dir: Path, make_queue) -> None:
    client = HubClient("http://127.0.0.1:9", None, True, cache_dir=cache_dir)
    q = make_queue(client)
    job = q.add("acme/tiny-llama")
    snap = q.wait(job, ["failed", "done"])
    assert snap.state == "failed" and snap.error_title == OfflineError.title


def test_cached_files_marks_downloaded_quants(filled_cache: Path) -> None:
    from backends.models.cache_inventory import cached_files

    assert cached_files(filled_cache, "acme/tiny-chat-GGUF") == {"tiny-chat-Q4_K_M.gguf"}
    assert cached_files(filled_cache, "acme/not-here") == set()


def test_orphan_partials_are_cleaned(make_queue, state_dir: Path) -> None:
    q = make_queue()
    (state_dir / "partial").mkdir(parents=True)
    (state_dir / "partial" / "deadbeef.part").write_bytes(b"x" * 1234)
    (state_dir / "partial" / "deadbeef.json").write_text("{}")
    assert q.discard_orphan_partials() == 1234
    assert not list((state_dir / "partial").iterdir())
