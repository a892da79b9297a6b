"""Starting host processes: from one long-lived thread, with a log file each, and with
a pre-started spare so a model switch does not wait for Python to start.

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
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

log = logging.getLogger(__name__)

LOG_DIR_NAME = "engine-hosts"
KEEP_LOGS = 20
_seq = itertools.count(1)


@dataclass
class Spawned:
    """A started child that has not been given an engine yet."""

    process: subprocess.Popen[bytes]
    conn: Connection
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def discard(self, grace: float = 1.0) -> None:
        """Close the socket (the child exits on EOF), kill it if it lingers, reap it."""
        try:
            self.conn.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

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
    """Runs every Popen in one daemon thread and keeps at most one spare child."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[concurrent.futures.Future[Spawned] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._spare: concurrent.futures.Future[Spawned] | None = None
        self.keep_spare = True

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="host-spawner", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            future = self._jobs.get()
            if future is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(_spawn_now())
            except BaseException as error:
                future.set_exception(error)

    def _submit(self) -> concurrent.futures.Future[Spawned]:
        future: concurrent.futures.Future[Spawned] = concurrent.futures.Future()
        with self._lock:
            self._ensure_thread()
            self._jobs.put(future)
        return future

    def spawn(self) -> Spawned:
        """A started child: the spare if one is ready and alive, else a new one."""
        with self._lock:
            spare, self._spare = self._spare, None
        spawned: Spawned | None = None
        if spare is not None:
            try:
                spawned = spare.result(timeout=30)
            except Exception as error:
                log.warning("spare engine host failed to start: %s", error)
            if spawned is not None and not spawned.alive():
                spawned.discard()
                spawned = None
        if spawned is None:
            spawned = self._submit().result()
        if self.keep_spare:
            self.prestart()
        return spawned

    def spawn_fresh(self) -> Spawned:
        """A new child, never the spare."""
        return self._submit().result()

    def prestart(self) -> None:
        """Start a spare now (e.g. while the first frame is drawn); cheap if one exists."""
        with self._lock:
            if self._spare is not None:
                return
        future = self._submit()
        with self._lock:
            if self._spare is None:
                self._spare, future = future, None  # type: ignore[assignment]
        if future is not None:  # another thread made a spare meanwhile
            future.add_done_callback(_discard_result)

    def drop_spare(self) -> None:
        """Stop the spare (at exit, or when a test wants an exact process count)."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.add_done_callback(_discard_result)


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
