"""The app's one Hub session: the download queue, the Hub and cache screens, and resuming.

The queue lives as long as the app (downloads go on while the user chats). The Hub and cache
screens are built here once by the app's navigation (tui/navigation.py) and kept. Downloads
left unfinished by a previous run resume at start, without waiting for the user to open the
Hub.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    from backends.hub.client import HubClient
    from backends.hub.download_queue import DownloadQueue
    from backends.settings import Settings


class DownloadCompleted(Message):
    """A download finished (posted from the queue's thread; handled by the app)."""

    def __init__(self, repo_id: str) -> None:
        super().__init__()
        self.repo_id = repo_id


def has_downloads_to_resume() -> bool:
    """True when the last run left a job queued or running (reads queue.json; no Hub)."""
    from backends.hub.download_jobs import load_jobs
    from backends.paths import data_dir

    jobs = load_jobs(data_dir() / "downloads" / "queue.json")
    return any(job.state in ("queued", "running") for job in jobs)


def packaged_models() -> list[tuple[str, Path]]:
    """Models that come inside a package (the demo), for the lists of what is on disk."""
    from backends.models.catalog import demo_spec

    demo = demo_spec()
    return [(demo.name, Path(demo.path))] if demo is not None and demo.path else []


class HubAccess:
    """Builds the Hub client and queue on first use and hands out the Hub and cache screens."""

    def __init__(self, app: App[None], settings: Settings) -> None:
        self._app = app
        self._settings = settings
        self._queue: DownloadQueue | None = None

    def client(self) -> HubClient:
        from backends.hub.client import HubClient

        return HubClient.from_settings(self._settings)

    @property
    def queue(self) -> DownloadQueue:
        if self._queue is None:
            from backends.hub.download_queue import DownloadQueue

            self._queue = DownloadQueue(self.client(), on_event=self._on_event)
            self._queue.discard_orphan_partials()
        return self._queue

    def _on_event(self, event: object) -> None:
        # Runs on the queue's thread (or the caller's): post_message is thread-safe.
        job = getattr(event, "job", None)
        if getattr(event, "kind", None) == "state" and getattr(job, "state", None) == "done":
            self._app.post_message(DownloadCompleted(job.repo_id))  # type: ignore[union-attr]

    def build_hub_screen(self) -> Screen[Any]:
        """The Hub screen (built once by the navigation, tui/navigation.py, and kept)."""
        from backends.device import DeviceMonitor
        from tui.hub.hub_screen import HubScreen

        return HubScreen(
            self.client,
            self.queue,
            DeviceMonitor(),
            model_dirs=self._settings.model_dirs,
            packaged=packaged_models(),
        )

    def build_cache_screen(self, **hooks: Any) -> Screen[Any]:
        """The disk cache; `hooks` are CacheScreen's loaded_model / unload_model callbacks."""
        from tui.hub.cache_screen import CacheScreen

        return CacheScreen(self._settings, packaged=packaged_models(), **hooks)

    def close(self) -> None:
        if self._queue is not None:
            self._queue.close(timeout=2.0)
