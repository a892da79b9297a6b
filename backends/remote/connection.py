"""A remote engine's hold on one model on one server, and a request that runs beside it.

Every remote engine (images, speech to text, text to speech) "loads" the same way: probe
the server (it answers as its kind, it has the model), then keep one HTTP client for it.
`ServerModel` is that state. `BackgroundRequest` runs one blocking request in a helper
thread so the engine's own thread can poll progress, tick a clock or see a cancel at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from backends.base import ModelSpec, ServerConfig
from backends.errors import GenerationError
from backends.remote.http import make_client
from backends.remote.probe import Capability, ServerCapabilities, probe_for_load


class ServerModel:
    """The client, server and model id of a loaded remote model; empty until `open`."""

    def __init__(self) -> None:
        self.client: httpx.Client | None = None
        self.server: ServerConfig | None = None
        self.model: str | None = None

    @property
    def loaded(self) -> bool:
        return self.client is not None

    @property
    def runtime(self) -> str:
        """What a screen shows beside the model name: "on <server>"."""
        return f"on {self.server.name}" if self.server is not None else ""

    def open(
        self, spec: ModelSpec, kind: str, capabilities: tuple[Capability, ...] = ("image",)
    ) -> ServerCapabilities:
        """Probe the spec's server and keep a client for it; raises the probe's error
        (down, wrong kind, model missing). Returns what the server offers."""
        self.close()
        server, offered, model = probe_for_load(spec, kind, capabilities)
        self.client, self.server, self.model = make_client(server), server, model
        return offered

    def require(self, what: str) -> tuple[httpx.Client, ServerConfig, str]:
        """(client, server, model), or GenerationError when nothing is loaded."""
        if self.client is None or self.server is None or self.model is None:
            raise GenerationError(f"No {what} model is loaded. Pick one first (ctrl+o).")
        return self.client, self.server, self.model

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client, self.server, self.model = None, None, None


class BackgroundRequest:
    """`call()` in a daemon thread; `wait(s)` is True once it returned or raised."""

    def __init__(self, call: Callable[[], httpx.Response], name: str) -> None:
        self._call = call
        self._done = threading.Event()
        self._response: httpx.Response | None = None
        self.error: BaseException | None = None
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        try:
            self._response = self._call()
        except BaseException as error:  # handed to the engine's thread, which raises it
            self.error = error
        finally:
            self._done.set()

    def wait(self, seconds: float) -> bool:
        return self._done.wait(seconds)

    def response(self) -> httpx.Response:
        """The answer; re-raises what the call raised (check `error` first to map it)."""
        if self.error is not None:
            raise self.error
        assert self._response is not None, "response() before wait() returned True"
        return self._response
