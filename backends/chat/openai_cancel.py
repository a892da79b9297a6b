"""Cancelling a request to an OpenAI-compatible server at once, whatever the server does.

Before the headers the request runs in a helper thread (some servers send nothing until the
prompt is processed or the model loaded); after them a watcher shuts the socket down, so a
blocked read ends now.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

import httpx


def unless_cancelled(
    open_stream: Callable[[], httpx.Response], cancel: threading.Event | None
) -> httpx.Response | None:
    """The streaming response, or None when `cancel` is set before it starts.

    Some servers send no headers until the prompt is processed or the model is loaded
    (Ollama loads on first use: tens of seconds), so the request runs in a helper thread
    and a cancel returns at once; the abandoned response is closed when it arrives,
    which tells the server to stop.
    """
    if cancel is None:
        return open_stream()
    outcome: dict[str, Any] = {}
    finished = threading.Event()
    abandoned = threading.Event()

    def request() -> None:
        try:
            outcome["response"] = open_stream()
        except BaseException as error:
            outcome["error"] = error
        finally:
            finished.set()
            if abandoned.is_set() and "response" in outcome:
                outcome["response"].close()

    threading.Thread(target=request, name="openai-request", daemon=True).start()
    while not finished.wait(0.05):
        if cancel.is_set():
            abandoned.set()
            if finished.is_set() and "response" in outcome:  # it arrived meanwhile
                outcome["response"].close()
            return None
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


def _shutdown(response: httpx.Response) -> None:
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
