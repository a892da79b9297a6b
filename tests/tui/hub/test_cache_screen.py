"""The cache manager: downloaded repos listed by size; delete asks, frees bytes, refreshes."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import DataTable, Static

from backends.hub.download_queue import DownloadQueue
from tests.fixtures.hub_repos import FakeRepo
from tests.tui.hub.conftest import NOW, ScreenApp, settled, wait_until
from tui.hub.cache_screen import CacheScreen
from tui.screens.confirm_delete import ConfirmDelete

GGUF = "acme/tiny-chat-GGUF"


def download(queue: DownloadQueue, repo: str, patterns: list[str] | None = None) -> None:
    job = queue.add(repo, allow_patterns=patterns)
    assert queue.wait(job, ["done", "failed"]).state == "done"


def disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def names(app: ScreenApp) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_lists_downloads_and_delete_frees_bytes(queue, cache_dir: Path, tmp_path) -> None:
    download(queue, GGUF, ["tiny-chat-Q4_K_M.gguf"])
    download(queue, "acme/tiny-llama")
    folder = tmp_path / "my-ggufs"
    folder.mkdir()
    (folder / "local-model-Q4_0.gguf").write_bytes(b"GGUF" + bytes(5000))
    app = ScreenApp(lambda: CacheScreen(cache_dir=cache_dir, model_dirs=[folder], now=NOW))
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        # Sorted by size: the GGUF quant (300 KB), the transformers repo (~200 KB), the file.
        assert names(app) == [GGUF, "acme/tiny-llama", "local-model-Q4_0.gguf"]
        status = str(app.screen.query_one("#cache-status", Static).render())
        assert status.startswith("3 models on disk")
        before = disk_bytes(cache_dir)
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDelete), "confirm")
        confirm = app.screen
        assert isinstance(confirm, ConfirmDelete)
        assert confirm.freed_bytes >= 300_000
        await pilot.pause()
        title = str(confirm.query_one("#confirm-title", Static).render())
        assert title == f"Delete {GGUF}? This frees 300 KB."
        await pilot.press("y")
        await wait_until(pilot, lambda: GGUF not in names(app), "list refreshed")
        await settled(pilot)
        freed = before - disk_bytes(cache_dir)
        assert freed >= 300_000
        assert not (cache_dir / "models--acme--tiny-chat-GGUF").exists()
        assert names(app) == ["acme/tiny-llama", "local-model-Q4_0.gguf"]
        notes = [str(n.message) for n in app._notifications]
        assert f"Deleted {GGUF}: freed 300 KB." in notes


async def test_keep_deletes_nothing_and_sort_cycles(queue, cache_dir: Path) -> None:
    download(queue, GGUF, ["tiny-chat-IQ3_XXS.gguf"])
    download(queue, "acme/tiny-llama")
    app = ScreenApp(lambda: CacheScreen(cache_dir=cache_dir, now=NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        assert names(app) == [GGUF, "acme/tiny-llama"]  # 220 KB before ~200 KB
        await pilot.press("s")  # by name
        assert names(app) == [GGUF, "acme/tiny-llama"]  # "acme/tiny-c…" < "acme/tiny-l…"
        assert "sorted by name" in str(app.screen.query_one("#cache-status", Static).render())
        before = disk_bytes(cache_dir)
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDelete), "confirm")
        await pilot.press("n")
        await settled(pilot)
        assert disk_bytes(cache_dir) == before
        assert len(names(app)) == 2


async def test_empty_cache_says_so(cache_dir: Path) -> None:
    app = ScreenApp(lambda: CacheScreen(cache_dir=cache_dir, now=NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        status = str(app.screen.query_one("#cache-status", Static).render())
        assert status.startswith("No models on disk yet")
        assert os.fspath(cache_dir) in status.replace("\n", "")


async def test_delete_one_revision_keeps_the_other(queue, cache_dir: Path, hub) -> None:
    repo_id = "acme/two-revisions"
    old = FakeRepo(repo_id, {"w.gguf": b"GGUF" + bytes(120_000)}, commit="a" * 40)
    new = FakeRepo(repo_id, {"w.gguf": b"GGUF" + bytes(90_000) + b"x"}, commit="b" * 40)
    try:
        hub.add_repo(old)
        download(queue, repo_id)
        hub.add_repo(new)  # main moves to a new commit with a different file
        download(queue, repo_id)
    finally:
        hub.repos.pop(repo_id, None)
    app = ScreenApp(lambda: CacheScreen(cache_dir=cache_dir, now=NOW))
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        labels = names(app)
        assert labels[0] == repo_id
        assert {labels[1].strip(), labels[2].strip()} == {
            "└ bbbbbbbbbb (main)",
            "└ aaaaaaaaaa (detached)",
        }
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=labels.index(next(x for x in labels if "aaaa" in x)))
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDelete), "confirm")
        confirm = app.screen
        assert isinstance(confirm, ConfirmDelete)
        assert confirm.what == f"revision aaaaaaaaaa of {repo_id}"
        assert confirm.freed_bytes == 120_004
        await pilot.press("y")
        await wait_until(pilot, lambda: len(names(app)) == 1, "revision gone")
        storage = cache_dir / "models--acme--two-revisions"
        assert not (storage / "snapshots" / ("a" * 40)).exists()
        assert (storage / "snapshots" / ("b" * 40) / "w.gguf").stat().st_size == 90_005


async def test_deleting_the_loaded_model_warns_and_unloads_it_first(queue, cache_dir: Path) -> None:
    from backends.base import ModelSpec

    download(queue, GGUF, ["tiny-chat-Q4_K_M.gguf"])
    loaded: list[ModelSpec | None] = [
        ModelSpec(
            key="gguf:x", name="tiny chat Q4", engine="llama_cpp", repo_id=GGUF, source="hf-cache"
        )
    ]
    answering = [True]

    def unload() -> bool:
        if answering[0]:
            return False
        loaded[0] = None
        return True

    app = ScreenApp(
        lambda: CacheScreen(
            cache_dir=cache_dir, now=NOW, loaded_model=lambda: loaded[0], unload_model=unload
        )
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDelete), "confirm")
        await pilot.pause()
        warning = str(app.screen.query_one("#confirm-warning", Static).render())
        assert warning == "tiny chat Q4 is loaded in the chat now: deleting unloads it first."
        await pilot.press("y")  # refused while it answers: nothing deleted
        await settled(pilot)
        assert names(app) == [GGUF]
        assert any("Stop the answer" in str(n.message) for n in app._notifications)
        answering[0] = False
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDelete), "confirm again")
        await pilot.press("y")
        await wait_until(pilot, lambda: names(app) == [], "deleted")
        assert loaded[0] is None


async def test_the_users_folders_list_pipelines_and_whisper_and_delete_after_asking(
    cache_dir: Path, tmp_path: Path
) -> None:
    """Diffusers and Whisper folders under model_dirs were missing; a GGUF there was listed
    but "delete it there" was all Del did."""
    folder = tmp_path / "models"
    pipeline = folder / "sd-tiny"
    (pipeline / "unet").mkdir(parents=True)
    (pipeline / "model_index.json").write_text("{}")
    (pipeline / "unet" / "weights.safetensors").write_bytes(bytes(40_000))
    whisper = folder / "whisper-tiny"
    whisper.mkdir()
    for name, size in (("model.bin", 20_000), ("config.json", 10), ("vocabulary.json", 10)):
        (whisper / name).write_bytes(bytes(size))
    gguf = folder / "chat-Q4_0.gguf"
    gguf.write_bytes(b"GGUF" + bytes(5000))
    app = ScreenApp(lambda: CacheScreen(cache_dir=cache_dir, model_dirs=[folder], now=NOW))
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        assert names(app) == ["sd-tiny", "whisper-tiny", "chat-Q4_0.gguf"]
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=2)
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDelete), "confirm")
        await pilot.press("n")  # asked first: nothing goes without a yes
        await settled(pilot)
        assert gguf.exists()
        table.move_cursor(row=0)
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDelete), "confirm")
        assert app.screen.freed_bytes >= 40_000  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_until(pilot, lambda: "sd-tiny" not in names(app), "list refreshed")
        assert not pipeline.exists() and whisper.exists()


async def test_each_model_shows_its_kind(tmp_path: Path) -> None:
    """The Engine column said "transformers" for a NER model's neighbours, a summarization
    repo and a transformers TTS repo alike, and "—" for a Kokoro voice."""
    from tests.fixtures.model_cache import MIXED_REPOS, mixed_cache

    cache = mixed_cache(tmp_path / "hf")
    app = ScreenApp(lambda: CacheScreen(cache_dir=cache, now=NOW))
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        table = app.screen.query_one(DataTable)
        assert [str(c.label) for c in table.columns.values()][:2] == ["Model", "Kind"]
        kinds = {str(row[0]): str(row[1]) for row in map(table.get_row_at, range(table.row_count))}
        assert kinds == {repo: label for repo, (_, label) in MIXED_REPOS.items()}
