"""A small app hosting the Hub screens, wired to the local Hub server with its own HF cache."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.worker import WorkerState

from backends.device import DeviceMonitor, DeviceSnapshot, GpuSample
from backends.hub.client import HubClient
from backends.hub.download_queue import DownloadQueue
from backends.hub.resumable_download import RetryPolicy
from tests.fixtures.hub_server import HubServer
from tui.hub.downloads_panel import DownloadsPanel

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


class FixedMonitor(DeviceMonitor):
    """One 8 GB GPU with 6 GB free and 16 GB RAM with 10 GB free, every time."""

    def sample(self) -> DeviceSnapshot:
        gpu = GpuSample(0, "Test GPU", 2_000_000_000, 8_000_000_000, 10.0, 40.0, None)
        return DeviceSnapshot(6_000_000_000, 16_000_000_000, 300_000_000, 5.0, (gpu,))


class TinyRamMonitor(DeviceMonitor):
    """No GPU and 120 MB of free RAM: only the smallest quants fit."""

    def sample(self) -> DeviceSnapshot:
        return DeviceSnapshot(16_000_000_000 - 100_000_000, 16_000_000_000, 1, 1.0, ())


class ScreenApp(App[None]):
    """Pushes one screen; records DownloadFinished messages like the real app would."""

    def __init__(self, make_screen: Callable[[], Screen[None]]) -> None:
        super().__init__()
        self.make_screen = make_screen
        self.finished: list[DownloadsPanel.DownloadFinished] = []

    def on_mount(self) -> None:
        self.push_screen(self.make_screen())

    def on_downloads_panel_download_finished(
        self, message: DownloadsPanel.DownloadFinished
    ) -> None:
        self.finished.append(message)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "hf-cache"


@pytest.fixture
def make_client(hub: HubServer, cache_dir: Path) -> Callable[..., HubClient]:
    def make(offline: bool = False, endpoint: str | None = None) -> HubClient:
        return HubClient(endpoint or hub.endpoint, None, offline, cache_dir=cache_dir)

    return make


@pytest.fixture
def queue(make_client: Callable[..., HubClient], tmp_path: Path) -> Iterator[DownloadQueue]:
    q = DownloadQueue(
        make_client(), state_dir=tmp_path / "downloads", retry=RetryPolicy(5, base_delay=0.0)
    )
    yield q
    q.close()


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until `condition()` holds (workers and timers deliver in their time)."""
    for _ in range(400):
        await pilot.pause(0.025)
        if condition():
            return
    raise AssertionError(f"timed out waiting for {what}")


async def settled(pilot: Pilot[None]) -> None:
    """Wait until no worker runs (exclusive workers get cancelled; that is fine) and repaint."""
    await pilot.pause()
    busy = (WorkerState.PENDING, WorkerState.RUNNING)
    await wait_until(pilot, lambda: all(w.state not in busy for w in pilot.app.workers), "workers")
    await pilot.pause()
