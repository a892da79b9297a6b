"""The Hub client and download queue the Hub screens share, and the token swap between them.

Plain Python (no Textual). When the user enters a token, `use_token` gives both the screens'
client and the queue's client the new token, so a gated card reloads and a failed download
resumes with it. The token itself stays inside `HubToken` and is never printed.
"""

from __future__ import annotations

from collections.abc import Callable

from backends.hub.client import HubClient
from backends.hub.download_queue import DownloadQueue
from backends.hub.token import HubToken


class HubSession:
    """`HubSession(client_factory, queue)`: `client` is built once, lazily, from the factory."""

    def __init__(self, client_factory: Callable[[], HubClient], queue: DownloadQueue) -> None:
        self._factory = client_factory
        self._client: HubClient | None = None
        self.queue = queue

    @property
    def client(self) -> HubClient:
        if self._client is None:
            self._client = self._factory()
        return self._client

    @property
    def offline(self) -> bool:
        return self.client.offline

    def verify_token(self, token: HubToken) -> str:
        """The account `token` belongs to; raises AuthRequired if the Hub rejects it (blocking)."""
        probe = self.client.with_token(token)
        try:
            return probe.whoami()
        finally:
            probe.close()

    def use_token(self, token: HubToken) -> None:
        """Use `token` from now on, for browsing and for the queue's next transfers."""
        self._client = self.client.with_token(token)
        # The queue reads `.client` for each job it starts, so the swap applies on resume.
        self.queue.client = self.queue.client.with_token(token)
