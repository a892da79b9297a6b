"""Cancelling a request to an OpenAI-compatible server at once, whatever the server does.

Before the headers the request runs in a helper thread (some servers send nothing until the
prompt is processed or the model loaded); after them a watcher shuts the socket down, so a
blocked read ends now. While it waits for the headers, the engine's thread says when the
request is on the wire (RequestSent), from httpcore's trace of the connection.

A stream that ended with `[DONE]` is read to its end, so its connection goes back to the
pool: closed half-read, every answer after the first opened a new connection, which put
the server's accept (a thread or a task on its side) between Enter and the first token.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

import httpx

from backends.base import RequestSent
from backends.trace import mark

DRAIN_LIMIT_S = 1.0  # a server that keeps the stream open after [DONE] loses the connection

# httpcore's trace events: the request's last byte is written, the answer not yet read.
WRITTEN = ("http11.receive_response_headers.started", "http2.receive_response_headers.started")

# open_stream(on_wire): sends the request, calling on_wire() once it is written.
OpenStream = Callable[[Callable[[], None]], httpx.Response]


def trace_written(on_wire: Callable[[], None]) -> Callable[[str, Any], None]:
    """An httpcore `trace` extension that calls `on_wire` when the request is written."""

    def trace(event: str, info: Any) -> None:
        if event == "connection.connect_tcp.started":
            mark("connect")
        if event in WRITTEN:
            mark("wire")
            on_wire()

    return trace


def unless_cancelled(
    open_stream: OpenStream, cancel: threading.Event | None
) -> Generator[RequestSent, None, httpx.Response | None]:
    """Yields RequestSent once the request is written; returns the streaming response, or
    None when `cancel` is set before it starts (use with `yield from`).

    Some servers send no headers until the prompt is processed or the model is loaded
    (Ollama loads on first use: tens of seconds), so the request runs in a helper thread
    and a cancel returns at once; the abandoned response is closed when it arrives,
    which tells the server to stop.
    """
    written = threading.Event()
    if cancel is None:
        direct = open_stream(written.set)
        if written.is_set():
            yield RequestSent()
        return direct
    outcome: dict[str, Any] = {}
    finished = threading.Event()
    abandoned = threading.Event()
    changed = threading.Event()  # written or finished: look again now

    def on_wire() -> None:
        written.set()
        changed.set()

    def request() -> None:
        try:
            outcome["response"] = open_stream(on_wire)
        except BaseException as error:
            outcome["error"] = error
        finally:
            finished.set()
            changed.set()
            if abandoned.is_set() and "response" in outcome:
                outcome["response"].close()

    def abandon() -> None:
        abandoned.set()
        if finished.is_set() and "response" in outcome:  # it arrived meanwhile
            outcome["response"].close()

    threading.Thread(target=request, name="openai-request", daemon=True).start()
    told = False
    while not finished.is_set():
        if written.is_set() and not told:
            told = True
            try:
                yield RequestSent()
            except GeneratorExit:  # the caller stopped listening: nobody reads the answer
                abandon()
                raise
            continue  # it may have finished meanwhile
        if cancel.is_set():
            abandon()
            return None
        changed.wait(0.05)  # a cancel is seen within 50 ms
        changed.clear()  # every condition is looked at again before the next wait
    if written.is_set() and not told:
        yield RequestSent()
    if "error" in outcome:
        raise outcome["error"]
    response: httpx.Response = outcome["response"]
    return response


class CancelWatcher:
    """Shuts the stream's socket down when `cancel` is set, so a blocked read ends now."""

    def __init__(self, response: httpx.Response, cancel: threading.Event) -> None:
        self._response = response
        self._cancel = cancel
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="openai-cancel", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        # cancel.wait() cannot also wait on _stopped, so poll both at 20 Hz.
        while not self._stopped.is_set():
            if self._cancel.wait(0.05):
                if not self._stopped.is_set():
                    _shutdown(self._response)
                return


def finish_reading(rest: Iterator[object], response: httpx.Response) -> None:
    """Read what is left of a finished stream (the chunked body's end, after `[DONE]`) so
    the connection can be used again; within DRAIN_LIMIT_S, else the socket is shut."""
    limit = threading.Timer(DRAIN_LIMIT_S, _shutdown, (response,))
    limit.daemon = True
    limit.start()
    try:
        for _ in rest:
            pass
    except (httpx.TransportError, httpx.StreamError):
        pass  # shut, or the server closed it: a new connection next time
    finally:
        limit.cancel()


def _shutdown(response: httpx.Response) -> None:
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
