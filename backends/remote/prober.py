"""Probe every configured server in the background, retrying the ones that are down.

One daemon thread per server, so a server that takes its connect timeout to fail never
delays another, and nothing here blocks start-up. A server that is up is asked again every
`refresh_s`; one that is down after `retry_s`, doubling up to `retry_max_s` (and at once on
`refresh()`). Listeners hear each new result from the prober's threads: a UI posts a message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from backends.base import ServerConfig
from backends.remote.probe import ServerCapabilities, probe_server

Listener = Callable[[ServerCapabilities], None]


def retry_delay(failures: int, base_s: float, max_s: float) -> float:
    """Seconds before the next try after `failures` failures in a row (1, 2, 3…)."""
    return float(min(max_s, base_s * 2 ** max(failures - 1, 0)))


class ServerProber:
    def __init__(
        self,
        servers: list[ServerConfig],
        *,
        probe: Callable[[ServerConfig], ServerCapabilities] = probe_server,
        refresh_s: float = 300.0,
        retry_s: float = 5.0,
        retry_max_s: float = 300.0,
    ) -> None:
        self._servers = servers
        self._probe = probe
        self._refresh_s, self._retry_s, self._retry_max_s = refresh_s, retry_s, retry_max_s
        self._results: dict[str, ServerCapabilities] = {}
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._wake = {s.name: threading.Event() for s in servers}
        self._stopped = threading.Event()
        self._all_probed = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._threads or not self._servers:
            if not self._servers:
                self._all_probed.set()
            return
        for server in self._servers:
            thread = threading.Thread(
                target=self._run, args=(server,), name=f"probe-{server.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def snapshot(self) -> dict[str, ServerCapabilities]:
        """The latest result per server name (servers not probed yet are absent)."""
        with self._lock:
            return dict(self._results)

    def wait_until_probed(self, timeout_s: float | None = None) -> bool:
        """True once every server has an answer (up or down)."""
        return self._all_probed.wait(timeout_s)

    def refresh(self, name: str | None = None) -> None:
        """Ask again now (one server, or all)."""
        for server_name, wake in self._wake.items():
            if name is None or name == server_name:
                wake.set()

    def stop(self) -> None:
        self._stopped.set()
        for wake in self._wake.values():
            wake.set()

    def _run(self, server: ServerConfig) -> None:
        failures = 0
        wake = self._wake[server.name]
        while not self._stopped.is_set():
            wake.clear()
            result = self._probe(server)
            failures = 0 if result.up else failures + 1
            with self._lock:
                self._results[server.name] = result
                if len(self._results) == len(self._servers):
                    self._all_probed.set()
            for listener in list(self._listeners):
                listener(result)
            delay = (
                self._refresh_s
                if result.up
                else retry_delay(failures, self._retry_s, self._retry_max_s)
            )
            wake.wait(delay)
