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
hop per streamed item); other callers wait on a lock.
"""

from __future__ import annotations

import itertools
import logging
import os
import select
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from backends.base import MemoryFootprint
from backends.errors import BackendError
from backends.host import protocol
from backends.host.crash import EngineCrashed, MemoryReading, explain_exit
from backends.host.spawn import Spawned, spawner

__all__ = ["CallCancelled", "EngineCrashed", "EngineHost", "HostInfo", "live_hosts"]

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
CLOSE_GRACE_S = 2.0
SAMPLE_EVERY_S = 0.5  # memory readings while a request runs (for the OOM explanation)
CANCEL_POLL_S = 0.02  # how often a waiting caller looks at its cancel event

_live: weakref.WeakSet[EngineHost] = weakref.WeakSet()
_live_lock = threading.Lock()


@dataclass(frozen=True)
class HostInfo:
    """A running host as the device gauge shows it."""

    pid: int
    label: str
    rss_bytes: int
    vram_bytes: int | None = None


def live_hosts(*, include_spare: bool = False) -> list[HostInfo]:
    """Every running host of this app, with its resident memory (and VRAM where NVML can
    tell); with `include_spare`, the pre-started spare process too (last)."""
    with _live_lock:
        hosts = [h for h in _live if h.alive]
    infos = [(h.pid, h.label, h.rss_bytes()) for h in hosts]
    spare = spawner.spare_process() if include_spare else None
    if spare is not None:
        infos.append((spare[0], spare[1], tree_rss(spare[0])))
    pids = [pid for pid, _, _ in infos if pid is not None]
    from backends.host.gpu_memory import vram_by_pid

    vram = vram_by_pid(pids)
    return [
        HostInfo(pid, label, rss, vram.get(pid)) for pid, label, rss in infos if pid is not None
    ]


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its children; 0 once it is gone."""
    try:
        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return int(total)
    except psutil.Error:
        return 0


class CallCancelled(BackendError):
    """A cancelled call whose host did not stop in time was ended with its process."""

    title = "Cancelled"


class _CancelTimedOut(Exception):
    """The child did not finish within the grace after a cancel; it has been killed."""


class EngineHost:
    """One engine object living in a child process; see the module docstring."""

    def __init__(self, target: str, *, label: str | None = None, use_spare: bool = True) -> None:
        self.target = target
        self.label = label or target.rpartition(":")[2]
        self._use_spare = use_spare
        self._spawned: Spawned | None = None
        self._lock = threading.Lock()  # one request at a time
        self._start_lock = threading.Lock()
        self._rids = itertools.count(1)
        self._memory: MemoryReading | None = None
        self._next_sample = 0.0
        self._log_offset = 0  # the log's size when the current request began
        self._spare_for: tuple[Any, ...] | None = None  # make a warm spare after a request
        self.starts = 0  # how many processes this host has had (a replaced one counts)

    # -- process ----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        spawned = self._spawned
        return spawned.process.pid if spawned is not None else None

    @property
    def alive(self) -> bool:
        spawned = self._spawned
        return spawned is not None and spawned.alive()

    @property
    def log_path(self) -> Path | None:
        spawned = self._spawned
        return spawned.log_path if spawned is not None else None

    def rss_bytes(self) -> int:
        pid = self.pid
        return tree_rss(pid) if pid is not None and self.alive else 0

    def footprint(self) -> MemoryFootprint:
        """What the process tree holds: its RSS, and its VRAM where NVML can tell."""
        pid = self.pid
        if pid is None or not self.alive:
            return MemoryFootprint()
        from backends.host.gpu_memory import vram_by_pid

        return MemoryFootprint(
            ram_bytes=self.rss_bytes(), vram_bytes=vram_by_pid([pid]).get(pid, 0)
        )

    def start(self) -> None:
        """Start the child and construct the engine in it; does nothing if it runs."""
        with self._start_lock:
            if self.alive:
                return
            self._reap()
            init = (protocol.INIT, self.target, dict(os.environ), _sys_path(), os.getcwd())
            spawned = spawner.spawn(init) if self._use_spare else spawner.spawn_fresh()
            self._spare_for = init if self._use_spare else None
            self._spawned = spawned
            self.starts += 1
            self._memory = None
            self._log_offset = 0
            try:
                if not spawned.initialised:
                    spawned.conn.send(init)
                deadline = time.monotonic() + START_TIMEOUT_S
                while not spawned.conn.poll(0.05):
                    if not spawned.alive() or time.monotonic() > deadline:
                        raise EOFError
                reply = spawned.conn.recv()
            except (EOFError, OSError):
                raise self._crashed() from None
            if reply[0] == protocol.RAISE:
                self._discard()
                raise protocol.rebuild_error(reply[2])
            with _live_lock:
                _live.add(self)
            log.info("engine host %s (%s) started", spawned.process.pid, self.label)

    def close(self) -> None:
        """Ask the child to exit, kill it after a short grace, reap it; safe twice.

        When no host is left running, a warm spare gives its runtime's memory back too.
        """
        spawned, self._spawned = self._spawned, None
        with _live_lock:
            _live.discard(self)
            idle = not any(h.alive for h in _live)
        if idle:
            spawner.cool_down()
        if spawned is not None:
            spawned.discard(grace=CLOSE_GRACE_S)

    def kill(self) -> None:
        """SIGKILL the child now and reap it (a stuck engine); the next start() replaces it."""
        spawned, self._spawned = self._spawned, None
        with _live_lock:
            _live.discard(self)
        if spawned is not None:
            spawned.kill()

    def _discard(self) -> None:
        spawned, self._spawned = self._spawned, None
        if spawned is not None:
            spawned.discard(grace=CLOSE_GRACE_S)

    def _reap(self) -> None:
        """Forget a dead child (reaping it, so no zombie stays behind)."""
        spawned, self._spawned = self._spawned, None
        with _live_lock:
            _live.discard(self)
        if spawned is not None:
            spawned.discard(grace=0.1)

    def _crashed(self) -> EngineCrashed:
        """The child is gone (or going): reap it and explain why."""
        spawned = self._spawned
        returncode: int | None = None
        log_path = None
        if spawned is not None:
            log_path = spawned.log_path
            try:
                returncode = spawned.process.wait(timeout=2.0)
            except subprocess.TimeoutExpired:  # closed its socket yet lives: end it
                spawned.process.kill()
                returncode = spawned.process.wait()
        self._reap()
        error = explain_exit(
            returncode,
            label=self.label,
            log_path=log_path,
            memory=self._memory,
            log_since=self._log_offset,
        )
        log.error("engine host %s died (%s): %s", self.label, returncode, error.message)
        return error

    def _sample_memory(self) -> None:
        now = time.monotonic()
        if now < self._next_sample:
            return
        self._next_sample = now + SAMPLE_EVERY_S
        pid = self.pid
        if pid is None:
            return
        try:
            memory = psutil.virtual_memory()
            # Its own RSS only: listing its children scans every process in /proc (ms on
            # a busy box, twice a second, in the thread that streams the answer).
            rss = psutil.Process(pid).memory_info().rss
        except Exception:  # a reading is only ever a hint
            return
        self._memory = MemoryReading(int(rss), int(memory.available), int(memory.total))

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
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Yield what the generator `method` yields in the child.

        The child's generator gets a `cancel` Event, set when the caller's is. With
        `grace_s`, a child that has not finished that long after the cancel (stuck in
        native code) is killed: `alive` is then False and the next `start()` gives a fresh
        process. Without `detach`, the iteration waits for that and then ends. With
        `detach`, the iteration ends as soon as the cancel is seen; the child finishes
        (or is killed) in the background, then `on_end(killed)` runs there. Requests
        made meanwhile wait for it.
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
            ):
                if kind == protocol.YIELD:
                    yield value
        except _CancelTimedOut:
            return

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
                        if detached:
                            deadline = cancelled_at + (grace_s or CLOSE_GRACE_S)
                            threading.Thread(
                                target=self._finish_detached,
                                args=(conn, deadline, detach),
                                name="host-stop",
                                daemon=True,
                            ).start()
                            handed_off = finished = True
                            return
                    wait = SAMPLE_EVERY_S
                    if cancel is not None and cancelled_at is None:
                        wait = CANCEL_POLL_S
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


def _sys_path() -> list[str]:
    cwd = os.getcwd()
    return [os.path.abspath(p) if p else cwd for p in sys.path]
