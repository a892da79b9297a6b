"""Starting host processes: from one long-lived thread, with a log file each, and with
pre-started spares (one cold, one warm per engine kind used) so a model switch waits for
neither Python's start nor the runtime's import.

Why one thread: PR_SET_PDEATHSIG fires when the *thread* that forked the child exits,
not the process. Models load in short-lived worker threads; a child forked there would
be killed the moment its load finished. Every Popen therefore runs in `_spawner`, a
daemon thread that lives as long as the app.

A spare has imported only `backends.host` and waits for "init", which carries the
parent's environment, sys.path and working directory of that moment, so taking a spare
is the same as a fresh spawn, minus interpreter start-up.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Init = tuple[Any, ...]  # the "init" message: ("init", target, env, sys_path, cwd)

LOG_DIR_NAME = "engine-hosts"
KEEP_LOGS = 20
_seq = itertools.count(1)


@dataclass
class Spawned:
    """A started child, given an engine (`initialised`) or waiting for one."""

    process: subprocess.Popen[bytes]
    conn: Connection
    log_path: Path
    initialised: bool = False  # already sent its "init" (a warm spare)

    def alive(self) -> bool:
        return self.process.poll() is None

    def discard(self, grace: float = 1.0) -> None:
        """End the child: EOF on its socket (its reader thread exits the process at once,
        whatever the main thread is doing), SIGKILL if it lingers; reap it.

        The wait is on the socket, which closes when the child exits: Popen.wait(timeout)
        polls with sleeps of up to 50 ms, which added ~35 ms to every model switch.
        """
        deadline = time.monotonic() + grace
        try:
            with socket.fromfd(self.conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as end:
                end.shutdown(socket.SHUT_WR)
            while (left := deadline - time.monotonic()) > 0 and self.conn.poll(left):
                self.conn.recv_bytes()  # leftovers, until EOF
        except (EOFError, OSError):
            pass
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        try:
            self.conn.close()
        except OSError:
            pass

    def kill(self) -> None:
        """SIGKILL now (a child stuck in native code), then reap it."""
        try:
            self.process.kill()
        except OSError:
            pass
        self.process.wait()
        try:
            self.conn.close()
        except OSError:
            pass


def log_dir() -> Path:
    from backends.paths import data_dir

    path = data_dir() / LOG_DIR_NAME
    path.mkdir(parents=True, exist_ok=True)
    return path


def _new_log_path() -> Path:
    directory = log_dir()
    logs = sorted(directory.glob("host-*.log"), key=lambda p: p.stat().st_mtime)
    for old in logs[: max(0, len(logs) - KEEP_LOGS + 1)]:
        try:
            old.unlink()
        except OSError:
            pass
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return directory / f"host-{stamp}-{os.getpid()}-{next(_seq)}.log"


def _spawn_now() -> Spawned:
    parent_sock, child_sock = socket.socketpair()
    log_path = _new_log_path()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p or os.getcwd() for p in sys.path)
    try:
        with open(log_path, "ab") as log_file:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "backends.host.child",
                    str(child_sock.fileno()),
                    str(os.getpid()),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                pass_fds=(child_sock.fileno(),),
                env=env,
                # Its own session: the terminal's signals (Ctrl+C, resize) are the app's.
                start_new_session=True,
            )
    except BaseException:
        parent_sock.close()
        raise
    finally:
        child_sock.close()
    return Spawned(process, Connection(parent_sock.detach()), log_path)


class _Spawner:
    """Runs every Popen in one daemon thread and keeps spare children: at most one cold
    spare (only `backends.host` imported) and one warm spare per engine kind used this
    session, up to `MAX_WARM_SPARES` kinds (the least recently used one goes first).

    A warm spare has already been sent the "init" of its engine kind, so it has imported
    that engine's runtime (its class's `warm_up`): a switch to another model of that kind
    does not wait for torch, llama_cpp or diffusers to import (3 s, 0.2 s, 4 s here), and
    switching between kinds (a chat model, then an image model, then back) finds each
    kind's spare still there. A warm spare is taken only for the very same init (engine,
    environment, sys.path, working directory); the host that took it asks for the next one
    after its first request (`prestart(warm=...)`), so the spare is replaced after use.
    Warm spares hold their runtime's memory (torch: ~240 MB), so once no engine has run for
    `cool_down_delay_s` they are all ended and one cold spare is kept; the delay lets an
    unload-then-load switch (the Images screen frees the old model first) find its spare.
    """

    MAX_WARM_SPARES = 3

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[concurrent.futures.Future[Spawned], Init | None]] = (
            queue.Queue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._cold: concurrent.futures.Future[Spawned] | None = None
        # engine target ("module:Class") -> (its warm spare, the init it was sent); the
        # most recently used kind last.
        self._warm: dict[str, tuple[concurrent.futures.Future[Spawned], Init]] = {}
        self._cool_timer: threading.Timer | None = None
        self.keep_spare = True
        self.cool_down_delay_s = 30.0

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="host-spawner", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            future, init = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                spawned = _spawn_now()
                if init is not None:
                    spawned.conn.send(init)
                    spawned.initialised = True
                future.set_result(spawned)
            except BaseException as error:
                future.set_exception(error)

    def _submit(self, init: Init | None = None) -> concurrent.futures.Future[Spawned]:
        future: concurrent.futures.Future[Spawned] = concurrent.futures.Future()
        with self._lock:
            self._ensure_thread()
            self._jobs.put((future, init))
        return future

    def spawn(self, init: Init) -> Spawned:
        """A started child for `init`: its kind's warm spare if it fits (`initialised`
        says it was already sent `init`), else the cold spare, else a new one. The caller
        asks for the next warm spare (`prestart(warm=init)`) once its load is done:
        started at once, the spare's imports competed with the load for the CPU (tiny
        GGUF: 60-100 ms instead of 20)."""
        self._cancel_cool_down()
        with self._lock:
            warm = self._warm.pop(init[1], None)
            cold = None
            if warm is None or warm[1] != init:
                cold, self._cold = self._cold, None
        if warm is not None and warm[1] != init:
            warm[0].add_done_callback(_discard_result)  # its environment changed since
            warm = None
        spawned = _started(warm[0]) if warm is not None else None
        if spawned is None and cold is not None:
            spawned = _started(cold)
        if spawned is None:
            spawned = self._submit().result()
        return spawned

    def spawn_fresh(self) -> Spawned:
        """A new child, never a spare."""
        return self._submit().result()

    def prestart(self, warm: Init | None = None) -> None:
        """Start a spare now: cold, or warm for `warm`'s engine kind (replacing a spare of
        that kind made for another init); nothing if a fitting one exists."""
        if warm is None:
            with self._lock:
                if self._cold is not None:
                    return
            future = self._submit()
            with self._lock:
                if self._cold is None:
                    self._cold, future = future, None  # type: ignore[assignment]
            if future is not None:  # another thread made one meanwhile
                future.add_done_callback(_discard_result)
            return
        target = warm[1]
        with self._lock:
            current = self._warm.get(target)
            if current is not None and current[1] == warm:
                self._warm[target] = self._warm.pop(target)  # most recently used: last
                return
        future = self._submit(warm)
        dropped: list[concurrent.futures.Future[Spawned]] = []
        with self._lock:
            old = self._warm.pop(target, None)
            if old is not None:
                dropped.append(old[0])
            self._warm[target] = (future, warm)
            while len(self._warm) > self.MAX_WARM_SPARES:
                oldest = next(iter(self._warm))
                dropped.append(self._warm.pop(oldest)[0])
        for spare in dropped:
            spare.add_done_callback(_discard_result)

    def wait_for_spare(self, timeout: float = 60.0) -> bool:
        """Wait until every spare has started (and a warm one has finished importing its
        runtime); False when there is none or one is not ready in time. For benchmarks
        and tests."""
        with self._lock:
            spares = [f for f, _ in self._warm.values()]
            if self._cold is not None:
                spares.append(self._cold)
        if not spares:
            return False
        for spare in spares:
            try:
                spawned = spare.result(timeout=timeout)
            except Exception:
                return False
            # A warm spare's "ready" reply waits unread on its socket once warmed up.
            if spawned.initialised and not spawned.conn.poll(timeout):
                return False
        return True

    def warm_kinds(self) -> list[str]:
        """The engine targets that have a warm spare, least recently used first."""
        with self._lock:
            return list(self._warm)

    def spare_processes(self) -> list[tuple[int, str]]:
        """(pid, label) of every started spare, for the device gauge: a warm spare holds
        its runtime's memory (torch: ~240 MB) and the user should see where that went."""
        with self._lock:
            spares = [f for f, _ in self._warm.values()]
            if self._cold is not None:
                spares.append(self._cold)
        found = []
        for spare in spares:
            if not spare.done() or spare.exception() is not None:
                continue
            spawned = spare.result()
            if spawned.alive():
                found.append((spawned.process.pid, "spare"))
        return found

    def cool_down(self) -> None:
        """End the warm spares and keep one cold spare (no engine is running: give the
        runtimes' memory back), at once."""
        self._cancel_cool_down()
        with self._lock:
            warm = [f for f, _ in self._warm.values()]
            self._warm.clear()
        for spare in warm:
            spare.add_done_callback(_discard_result)
        if self.keep_spare:
            if warm:
                self.prestart(warm=None)
        else:
            self.drop_spare()

    def cool_down_later(self, still_idle: Callable[[], bool]) -> None:
        """`cool_down` after `cool_down_delay_s`, if `still_idle()` then (no engine started
        meanwhile: starting one cancels it). Nothing when no spare is warm."""
        with self._lock:
            if not self._warm:
                return
        if self.cool_down_delay_s <= 0:
            self.cool_down()
            return

        def fire() -> None:
            if still_idle():
                self.cool_down()

        timer = threading.Timer(self.cool_down_delay_s, fire)
        timer.daemon = True
        with self._lock:
            old, self._cool_timer = self._cool_timer, timer
        if old is not None:
            old.cancel()
        timer.start()

    def _cancel_cool_down(self) -> None:
        with self._lock:
            timer, self._cool_timer = self._cool_timer, None
        if timer is not None:
            timer.cancel()

    def drop_spare(self) -> None:
        """Stop every spare (at exit, or when a test wants an exact process count)."""
        self._cancel_cool_down()
        with self._lock:
            spares = [f for f, _ in self._warm.values()]
            self._warm.clear()
            if self._cold is not None:
                spares.append(self._cold)
            self._cold = None
        for spare in spares:
            spare.add_done_callback(_discard_result)


def _started(future: concurrent.futures.Future[Spawned]) -> Spawned | None:
    """The spare's process once started and alive; None (reaped) when it failed or died."""
    try:
        spawned = future.result(timeout=30)
    except Exception as error:
        log.warning("spare engine host failed to start: %s", error)
        return None
    if not spawned.alive():
        spawned.discard()
        return None
    return spawned


def _discard_result(future: concurrent.futures.Future[Spawned]) -> None:
    if future.exception() is None:
        future.result().discard()


spawner = _Spawner()


def prestart_spare() -> None:
    """Begin starting a host process in the background; the next EngineHost takes it."""
    if spawner.keep_spare:
        spawner.prestart()


def set_keep_spare(enabled: bool) -> None:
    spawner.keep_spare = enabled
    if not enabled:
        spawner.drop_spare()
