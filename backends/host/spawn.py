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
    """Runs every Popen in one daemon thread and keeps at most one spare child.

    A spare is cold (only `backends.host` imported) or warm: already sent the "init" of
    the engine that was started last, so it has imported that engine's runtime (its
    class's `warm_up`), and a switch to another model of the same engine does not wait
    for torch or llama_cpp to import again (3 s and 0.2 s here). A warm spare is taken
    only for the very same init (engine, environment, sys.path, working directory).
    Warm spares hold the runtime's memory (torch: ~240 MB), so `cool_down` turns the
    spare cold again when no engine is running.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[concurrent.futures.Future[Spawned], Init | None]] = (
            queue.Queue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._spare: concurrent.futures.Future[Spawned] | None = None
        self._spare_init: Init | None = None
        self.keep_spare = True

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
        """A started child for `init`: the spare if it fits (`initialised` says whether it
        was already sent `init`), else a new one. The caller asks for the next spare
        (`prestart(warm=init)`) once its load is done: started at once, the spare's
        imports competed with the load for the CPU (tiny GGUF: 60-100 ms instead of 20)."""
        with self._lock:
            spare, spare_init = self._spare, self._spare_init
            self._spare, self._spare_init = None, None
        spawned: Spawned | None = None
        if spare is not None:
            if spare_init is not None and spare_init != init:
                spare.add_done_callback(_discard_result)  # warm for another engine
            else:
                try:
                    spawned = spare.result(timeout=30)
                except Exception as error:
                    log.warning("spare engine host failed to start: %s", error)
                if spawned is not None and not spawned.alive():
                    spawned.discard()
                    spawned = None
        if spawned is None:
            spawned = self._submit().result()
        return spawned

    def spawn_fresh(self) -> Spawned:
        """A new child, never the spare."""
        return self._submit().result()

    def prestart(self, warm: Init | None = None) -> None:
        """Start a spare now (cold, or warm for `warm`); nothing if a fitting one exists."""
        with self._lock:
            if self._spare is not None and self._spare_init == warm:
                return
            old = self._spare
            self._spare, self._spare_init = None, None
        if old is not None:
            old.add_done_callback(_discard_result)
        future: concurrent.futures.Future[Spawned] | None = self._submit(warm)
        with self._lock:
            if self._spare is None:
                self._spare, self._spare_init, future = future, warm, None
        if future is not None:  # another thread made a spare meanwhile
            future.add_done_callback(_discard_result)

    def wait_for_spare(self, timeout: float = 60.0) -> bool:
        """Wait until the spare has started (and, if warm, finished importing its runtime);
        False when there is none or it is not ready in time. For benchmarks and tests."""
        with self._lock:
            spare = self._spare
        if spare is None:
            return False
        try:
            spawned = spare.result(timeout=timeout)
        except Exception:
            return False
        # A warm spare's "ready" reply waits unread on its socket once the warm-up is done.
        return not spawned.initialised or spawned.conn.poll(timeout)

    def spare_process(self) -> tuple[int, str] | None:
        """(pid, label) of a started spare, for the device gauge: a warm spare holds its
        runtime's memory (torch: ~240 MB) and the user should see where that went."""
        with self._lock:
            spare = self._spare
        if spare is None or not spare.done() or spare.exception() is not None:
            return None
        spawned = spare.result()
        if not spawned.alive():
            return None
        return spawned.process.pid, "spare"

    def cool_down(self) -> None:
        """Replace a warm spare by a cold one (no engine is running: give memory back)."""
        with self._lock:
            warm = self._spare is not None and self._spare_init is not None
        if warm:
            self.prestart(warm=None) if self.keep_spare else self.drop_spare()

    def drop_spare(self) -> None:
        """Stop the spare (at exit, or when a test wants an exact process count)."""
        with self._lock:
            spare, self._spare, self._spare_init = self._spare, None, None
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
