"""huggingface_hub's shared HTTP session, made to fail fast for the calls a user waits on.

huggingface_hub 2.4 sends every request through one process-wide httpx2 client
(`get_session()`, created with no timeout), and `list_models` pages through `http_backoff`,
which retries a refused connection 5 times with 1+2+4+8+8 s of sleep: a search against an
unreachable Hub would spin for 23 s, and a Hub that accepts but never answers would hang it.

`fail_fast(timeout, endpoint)` marks the calls made inside it (a ContextVar: other threads and
other libraries using huggingface_hub are untouched). For marked requests the transport
  - gives a request that has no timeout ours (connect capped at 5 s);
  - turns a refused connection or a timeout into HubUnreachable, which is not an httpx2 error,
    so `http_backoff` does not retry it and the caller can say "can't reach the Hub" at once;
  - drops the Authorization header on requests to any origin but the endpoint's (a next-page
    link or redirect pointing elsewhere never receives the token).

The wrapper is installed once through huggingface_hub's public `set_client_factory`; the client
it builds keeps the default client's event hooks (HF_HUB_OFFLINE check, request ids) and its
redirect policy. Outside `fail_fast` it only forwards to a plain httpx2 transport. The same
first call routes huggingface_hub's log records to the app's logging instead of stderr.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx2

_SCOPE: ContextVar[tuple[float, str] | None] = ContextVar("localai_tui_hub_scope", default=None)
_install_lock = threading.Lock()
_installed = False


class HubUnreachable(Exception):
    """No connection to the Hub (or no answer in time) inside a `fail_fast` block."""

    def __init__(self, timed_out: bool) -> None:
        super().__init__("timed out" if timed_out else "connection failed")
        self.timed_out = timed_out


@contextmanager
def fail_fast(timeout: float, endpoint: str) -> Iterator[None]:
    """huggingface_hub calls made in this block fail at once when the Hub is unreachable."""
    install()
    token = _SCOPE.set((timeout, _origin(endpoint)))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def install() -> None:
    """Put the fail-fast transport under huggingface_hub's session (once per process)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import httpx2
        from huggingface_hub import get_session, set_client_factory

        # Its warnings (retries, 5xx) go to the app's log file, not the StreamHandler on stderr
        # it adds at import, where Textual draws (backends/chat/transformers.py does the same).
        hub_logger = logging.getLogger("huggingface_hub")
        for handler in list(hub_logger.handlers):
            if type(handler) is logging.StreamHandler:
                hub_logger.removeHandler(handler)
        hub_logger.propagate = True

        hooks = {name: list(fns) for name, fns in get_session().event_hooks.items()}
        transport_class = _transport_class()

        def factory() -> httpx2.Client:
            return httpx2.Client(
                event_hooks=hooks,
                follow_redirects=True,
                timeout=None,
                transport=transport_class(httpx2.HTTPTransport()),
            )

        set_client_factory(factory)
        _installed = True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _transport_class() -> Callable[[httpx2.BaseTransport], httpx2.BaseTransport]:
    import httpx2

    class FailFastTransport(httpx2.BaseTransport):
        def __init__(self, inner: httpx2.BaseTransport) -> None:
            self._inner = inner

        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            scope = _SCOPE.get()
            if scope is None:
                return self._inner.handle_request(request)
            timeout, origin = scope
            current: dict[str, Any] = request.extensions.get("timeout") or {}
            if all(value is None for value in current.values()):
                limits = httpx2.Timeout(timeout, connect=min(timeout, 5.0))
                request.extensions["timeout"] = limits.as_dict()
            if _origin(str(request.url)) != origin:
                request.headers.pop("authorization", None)
            try:
                return self._inner.handle_request(request)
            except (httpx2.ConnectError, httpx2.ConnectTimeout):
                raise HubUnreachable(timed_out=False) from None
            except httpx2.TimeoutException:
                raise HubUnreachable(timed_out=True) from None

        def close(self) -> None:
            self._inner.close()

    return FailFastTransport
