"""`EngineHost`: any engine class, run in its own process, called like a local object.

    host = EngineHost("backends.chat.llama_cpp:LlamaCppEngine")
    host.start()                                  # cheap to call twice
    host.call("load", spec, options, progress=on_progress, cancel=event)
    for event in host.iterate("stream", messages, params, cancel=event): ...
    host.close()                                  # the process exits and is reaped

Arguments, results and yielded items are pickled. Progress callbacks run in the caller's
thread as the child reports them. A BackendError raised in the child re-raises here with
the same class, title and message; other exceptions become a BackendError with their text.
A host that dies raises `EngineCrashed` (its signal explained, the log path given).

One request at a time per host: the calling thread reads the answers itself (no thread
hop per streamed item); other callers wait on a lock. The process half (start, close,
kill, why it died, memory) is `process.HostProcess`; the hosted-engine base that every
capability's proxy builds on is `hosted_engine.HostedEngine`.
"""

from __future__ import annotations

import itertools
import logging
import select
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from backends.errors import BackendError
from backends.host import protocol
from backends.host.crash import EngineCrashed
from backends.host.process import (
    CLOSE_GRACE_S,
    SAMPLE_EVERY_S,
    HostInfo,
    HostProcess,
    live_hosts,
    tree_rss,
)
from backends.host.spawn import spawner

__all__ = [
    "CallCancelled",
    "EngineCrashed",
    "EngineHost",
    "HostInfo",
    "live_hosts",
    "tree_rss",
]

log = logging.getLogger(__name__)

CANCEL_POLL_S = 0.02  # how often a waiting caller looks at its cancel event
_DETACHED = "detached"  # _request's last item when it handed the end to a background thread


class CallCancelled(BackendError):
    """A cancelled call whose host did not stop in time was ended with its process."""

    title = "Cancelled"


class _CancelTimedOut(Exception):
    """The child did not finish within the grace after a cancel; it has been killed."""


class EngineHost(HostProcess):
    """One engine object living in a child process; see the module docstring."""

    def __init__(self, target: str, *, label: str | None = None, use_spare: bool = True) -> None:
        super().__init__(target, label=label, use_spare=use_spare)
        self._lock = threading.Lock()  # one request at a time
        self._rids = itertools.count(1)

    # -- requests ---------------------------------------------------------------------------

    def call(
        self,
        method: str,
        *args: Any,
        progress: Callable[[Any], None] | None = None,
        cancel: threading.Event | None = None,
        grace_s: float | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call `method` on the engine (or read the attribute) in the child; return its result.

        With `cancel` and `grace_s`: a child that has not returned that long after the
        cancel (a load stuck in native code) is killed, and `CallCancelled` is raised.
        """
        try:
            for kind, value in self._request(
                protocol.CALL, method, args, kwargs, progress, cancel, grace_s=grace_s
            ):
                if kind == protocol.RETURN:
                    return value
        except _CancelTimedOut:
            raise CallCancelled(
                f"{self.label} did not stop within {grace_s:.1f} s of the cancel; its "
                "process was ended."
            ) from None
        return None

    def iterate(
        self,
        method: str,
        *args: Any,
        cancel: threading.Event | None = None,
        grace_s: float | None = None,
        detach: bool = False,
        on_end: Callable[[bool], None] | None = None,
        drain_s: float = 0.0,
        **kwargs: Any,
    ) -> Generator[Any, None, bool]:
        """Yield what the generator `method` yields in the child.

        The child's generator gets a `cancel` Event, set when the caller's is. With
        `grace_s`, a child that has not finished that long after the cancel (stuck in
        native code) is killed: `alive` is then False and the next `start()` gives a fresh
        process. Without `detach`, the iteration waits for that and then ends. With
        `detach`, the iteration ends as soon as the cancel is seen; the child finishes
        (or is killed) in the background, then `on_end(killed)` runs there. Requests
        made meanwhile wait for it. Returns (`yield from`) True when it ended that way,
        so `on_end` is still to come. With `drain_s`, a detached iteration first goes on
        yielding that long after the cancel (what the child already made, e.g. the rest of
        a batch), and ends normally if the child finishes meanwhile.
        """
        cancel = cancel if cancel is not None else threading.Event()
        try:
            for kind, value in self._request(
                protocol.ITER,
                method,
                args,
                kwargs,
                None,
                cancel,
                grace_s=grace_s,
                detach=on_end if detach else None,
                detached=detach,
                drain_s=drain_s,
            ):
                if kind == protocol.YIELD:
                    yield value
                elif kind == _DETACHED:
                    return True
        except _CancelTimedOut:
            return False
        return False

    def _request(
        self,
        kind: str,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        progress: Callable[[Any], None] | None,
        cancel: threading.Event | None,
        *,
        grace_s: float | None = None,
        detach: Callable[[bool], None] | None = None,
        detached: bool = False,
        drain_s: float = 0.0,
    ) -> Iterator[tuple[str, Any]]:
        self._lock.acquire()
        handed_off = False
        try:
            self.start()
            spawned = self._spawned
            assert spawned is not None
            conn = spawned.conn
            rid = next(self._rids)
            self._log_offset = _file_size(spawned.log_path)
            wants_cancel = cancel is not None
            try:
                conn.send((kind, rid, method, args, kwargs, progress is not None, wants_cancel))
            except OSError:
                raise self._crashed() from None
            cancelled_at: float | None = None
            finished = False
            # One poll object per request: Connection.poll() builds a selector per call,
            # ~a third of the per-token cost at thousands of tokens/s.
            poller = select.poll()
            poller.register(conn.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
            try:
                while True:
                    if cancel is not None and cancelled_at is None and cancel.is_set():
                        cancelled_at = time.monotonic()
                        try:
                            conn.send((protocol.CANCEL, rid))
                        except OSError:
                            raise self._crashed() from None
                    if (
                        detached
                        and cancelled_at is not None
                        and time.monotonic() >= cancelled_at + drain_s
                    ):
                        deadline = cancelled_at + (grace_s or CLOSE_GRACE_S)
                        threading.Thread(
                            target=self._finish_detached,
                            args=(conn, deadline, detach),
                            name="host-stop",
                            daemon=True,
                        ).start()
                        handed_off = finished = True
                        yield _DETACHED, None
                        return
                    wait = SAMPLE_EVERY_S
                    if cancel is not None and cancelled_at is None:
                        wait = CANCEL_POLL_S
                    elif cancelled_at is not None and detached:
                        wait = max(0.0, cancelled_at + drain_s - time.monotonic())
                    elif cancelled_at is not None and grace_s is not None:
                        wait = max(0.0, cancelled_at + grace_s - time.monotonic())
                    try:
                        message = conn.recv() if poller.poll(wait * 1000) else None
                    except (EOFError, OSError):
                        raise self._crashed() from None
                    if message is None:
                        self._sample_memory()
                        if (
                            cancelled_at is not None
                            and grace_s is not None
                            and time.monotonic() >= cancelled_at + grace_s
                        ):
                            log.warning(
                                "engine host %s ignored cancel for %.1fs; killing it",
                                self.label,
                                grace_s,
                            )
                            self.kill()
                            finished = True
                            raise _CancelTimedOut
                        continue
                    what = message[0]
                    if what == protocol.PROGRESS:
                        if progress is not None:
                            progress(message[2])
                    elif what == protocol.YIELD:
                        yield what, message[2]
                    elif what == protocol.YIELD_MANY:
                        for item in message[2]:
                            yield protocol.YIELD, item
                    elif what == protocol.RETURN:
                        finished = True
                        yield what, message[2]
                        return
                    elif what == protocol.RAISE:
                        finished = True
                        raise protocol.rebuild_error(message[2])
                    self._sample_memory()
            finally:
                if self._spare_for is not None and spawner.keep_spare:
                    # After the first request (the load), not during it.
                    spawner.prestart(warm=self._spare_for)
                    self._spare_for = None
                if not finished and self.alive:
                    # The caller stopped reading mid-stream (or raised): stop the child's
                    # generator and drain it, so the next request starts clean.
                    self._abandon(conn, rid)
        finally:
            if not handed_off:
                self._lock.release()

    def _finish_detached(
        self, conn: Any, deadline: float, on_end: Callable[[bool], None] | None
    ) -> None:
        """A detached request's end, in the background: read until the child's request
        ends; kill the child at `deadline`. Holds the request lock until then."""
        killed = False
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    log.warning("engine host %s ignored a stop; killing it", self.label)
                    self.kill()
                    killed = True
                    break
                if conn.poll(left) and conn.recv()[0] in (protocol.RETURN, protocol.RAISE):
                    break
        except (EOFError, OSError):  # it died while stopping: reap it, say why in the log
            self._crashed()
            killed = True
        finally:
            self._lock.release()
        if on_end is not None:
            try:
                on_end(killed)
            except Exception:  # a callback's failure must not vanish silently
                log.exception("on_end after a detached stop failed")

    def _abandon(self, conn: Any, rid: int) -> None:
        try:
            conn.send((protocol.CANCEL, rid))
            deadline = time.monotonic() + CLOSE_GRACE_S
            while time.monotonic() < deadline:
                if conn.poll(max(0.0, deadline - time.monotonic())):
                    if conn.recv()[0] in (protocol.RETURN, protocol.RAISE):
                        return
        except (EOFError, OSError):
            pass
        self.kill()


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
