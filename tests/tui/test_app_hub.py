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


def _notices(app: LocalAIApp) -> str:
    return " ".join(str(n.message) for n in app._notifications)


async def test_f3_opens_the_hub_and_f4_the_disk_cache(
    make_app: Callable[..., LocalAIApp], hub: HubServer, cache_dir: Path
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
