"""Clients and queues wired to the local Hub server, each test with its own HF cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.hub.client import HubClient
from backends.hub.download_queue import DownloadQueue
from backends.hub.resumable_download import RetryPolicy
from tests.fixtures.hub_server import HubServer

NO_WAIT = RetryPolicy(attempts=5, base_delay=0.0)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "hf-cache"


@pytest.fixture
def client(hub: HubServer, cache_dir: Path) -> Iterator[HubClient]:
    c = HubClient(hub.endpoint, None, False, cache_dir=cache_dir)
    yield c
    c.close()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "downloads"


@pytest.fixture
def make_queue(client: HubClient, state_dir: Path) -> Iterator:
    queues: list[DownloadQueue] = []

    def make(c: HubClient | None = None, **kwargs: object) -> DownloadQueue:
        kwargs.setdefault("retry", NO_WAIT)
        q = DownloadQueue(c or client, state_dir=state_dir, **kwargs)  # type: ignore[arg-type]
        queues.append(q)
        return q

    yield make
    for q in queues:
        q.close()
