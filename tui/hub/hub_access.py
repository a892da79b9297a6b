"""The app's one Hub session: the download queue, the Hub and cache screens, and resuming.

The queue lives as long as the app (downloads go on while the user chats), so its screen is
installed once and kept. F3 and F4 go back to their screen when it is already open (popping
what was opened above it) rather than stacking another copy, so Esc always leads back to the
chat in a few presses. Downloads left unfinished by a previous run resume at start, without
waiting for the user to open the Hub.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    from backends.hub.client import HubClient
    from backends.hub.download_queue import DownloadQueue
    from backends.settings import Settings

HUB_SCREEN = "hub"


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

    def show_hub(self) -> None:
        if not self._app.is_screen_installed(HUB_SCREEN):
            from backends.device import DeviceMonitor
            from tui.hub.hub_screen import HubScreen

            screen = HubScreen(
                self.client,
                self.queue,
                DeviceMonitor(),
                model_dirs=self._settings.model_dirs,
                packaged=packaged_models(),
            )
            self._app.install_screen(screen, HUB_SCREEN)
        hub = self._app.get_screen(HUB_SCREEN)
        if not self._back_to(lambda screen: screen is hub):
            self._app.push_screen(HUB_SCREEN)

    def is_showing_hub(self) -> bool:
        app = self._app
        return app.is_screen_installed(HUB_SCREEN) and app.screen is app.get_screen(HUB_SCREEN)

    def show_cache(self, **hooks: Any) -> None:
        """The disk cache; `hooks` are CacheScreen's loaded_model / unload_model callbacks."""
        from tui.hub.cache_screen import CacheScreen

        if self._back_to(lambda screen: isinstance(screen, CacheScreen)):
            self._app.screen.action_refresh()  # type: ignore[attr-defined]
            return
        self._app.push_screen(CacheScreen(self._settings, packaged=packaged_models(), **hooks))

    def _back_to(self, wanted: Callable[[Screen[Any]], bool]) -> bool:
        """Pop the screens above the first one `wanted` matches; False if none is open."""
        stack = self._app.screen_stack
        index = next((i for i, screen in enumerate(stack) if wanted(screen)), None)
        if index is None:
            return False
        for _ in range(len(stack) - 1 - index):
            self._app.pop_screen()
        return True

    def close(self) -> None:
        if self._queue is not None:
            self._queue.close(timeout=2.0)
