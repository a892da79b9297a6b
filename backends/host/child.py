"""The engine host process: `python -m backends.host.child FD PARENT_PID`.

It starts with stdin at /dev/null and fds 1 and 2 on its log file (native libraries write
there), then waits for "init" naming the engine class ("module:Class") together with the
parent's environment and sys.path, so a pre-started spare behaves exactly like a fresh
child. The main thread runs one request at a time; a reader thread receives requests and
handles "cancel" at once by setting the running request's Event; sends are serialised by
a lock because progress callbacks may come from any thread.

The child never outlives the app: it asks the kernel for SIGKILL when its parent dies
(PR_SET_PDEATHSIG, Linux) and exits when its socket reaches EOF.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from backends.host import protocol
from backends.host.crash import HOST_LOG_PREFIX

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)


class _Host:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._send_lock = threading.Lock()
        self._requests: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self._cancels: dict[int, threading.Event] = {}
        self._cancels_lock = threading.Lock()
        self._last_done = 0  # requests run in order: a cancel for this or older is late
        self._engine: Any = None

    def send(self, message: tuple[Any, ...]) -> None:
        """Send now, from the calling thread; the lock keeps messages whole and in order.

        Sent directly, not by a sender thread: a second thread needs the GIL while the
        engine's Python code holds it, and waited out the 5 ms switch interval. With a
        Python-bound test engine, an item reached the app 6-9 ms after it was yielded
        through a sender thread, 0.4-1.6 ms sent directly (median): time-to-first-token.
        """
        with self._send_lock:
            self._conn.send(message)

    def read_forever(self) -> None:
        """The reader thread: cancel at once, everything else to the main thread."""
        try:
            while True:
                message = self._conn.recv()
                if message[0] == protocol.CANCEL:
                    with self._cancels_lock:
                        if message[1] > self._last_done:  # may overtake its request
                            self._cancels.setdefault(message[1], threading.Event()).set()
                else:
                    self._requests.put(message)
        except (EOFError, OSError):
            pass
        # The app went away (or closed us): nothing can receive our answers any more, and
        # the main thread may be stuck in native code, so do not wait for it.
        sys.stderr.flush()
        os._exit(0)

    def _cancel_event(self, rid: int) -> threading.Event:
        with self._cancels_lock:
            return self._cancels.setdefault(rid, threading.Event())

    def serve(self) -> None:
        while True:
            message = self._requests.get()
            if message is None or message[0] == protocol.EXIT:
                return  # the process exit gives every byte back; no unload needed
            kind = message[0]
            if kind == protocol.INIT:
                self._init(*message[1:])
            elif kind in (protocol.CALL, protocol.ITER):
                self._run(*message)

    def _init(self, target: str, env: dict[str, str], sys_path: list[str], cwd: str) -> None:
        os.environ.clear()
        os.environ.update(env)
        sys.path[:] = sys_path
        try:
            os.chdir(cwd)
        except OSError:
            pass
        try:
            module_name, _, class_name = target.partition(":")
            engine_class = getattr(importlib.import_module(module_name), class_name)
            self._engine = engine_class()
            # Import the runtime now: a warm spare does this before it is needed.
            warm_up = getattr(engine_class, "warm_up", None)
        except BaseException as error:
            print(f"{HOST_LOG_PREFIX} could not start {target}", file=sys.stderr)
            self.send((protocol.RAISE, 0, protocol.error_info(error)))
            return
        if callable(warm_up):
            try:
                warm_up()
            except Exception as error:  # a missing runtime: the load says so, clearly
                print(f"{HOST_LOG_PREFIX} warm-up failed: {error!r}", file=sys.stderr)
        print(f"{HOST_LOG_PREFIX} {os.getpid()}: {target} ready", file=sys.stderr, flush=True)
        self.send((protocol.READY, os.getpid()))

    def _run(
        self,
        kind: str,
        rid: int,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        wants_progress: bool,
        wants_cancel: bool,
    ) -> None:
        if wants_progress:
            kwargs["progress"] = self._progress_sender(rid)
        if wants_cancel:
            kwargs["cancel"] = self._cancel_event(rid)
        try:
            attribute = getattr(self._engine, method)
            if kind == protocol.ITER:
                for item in attribute(*args, **kwargs):
                    self.send((protocol.YIELD, rid, item))
                result = None
            else:
                result = attribute(*args, **kwargs) if callable(attribute) else attribute
        except BaseException as error:
            info = protocol.error_info(error)
            if info.title is None:  # not a BackendError: keep the traceback for the log
                print(info.traceback, file=sys.stderr, flush=True)
            self.send((protocol.RAISE, rid, info))
        else:
            self.send((protocol.RETURN, rid, result))
        finally:
            with self._cancels_lock:
                self._cancels.pop(rid, None)
                self._last_done = max(self._last_done, rid)

    def _progress_sender(self, rid: int) -> Callable[[Any], None]:
        def progress(value: Any) -> None:
            self.send((protocol.PROGRESS, rid, value))

        return progress


def flush() -> None:
    """Make sure what the engine yielded so far has reached the app, and the log is
    written: for code about to do something that may kill the process (a test engine
    crashing on purpose). Sends are synchronous, so only stderr needs flushing."""
    sys.stderr.flush()


def main(argv: list[str]) -> None:
    fd, parent_pid = int(argv[0]), int(argv[1])
    _die_with_parent(parent_pid)
    conn = Connection(fd)
    host = _Host(conn)
    threading.Thread(target=host.read_forever, name="host-reader", daemon=True).start()
    # Native libraries write to fd 2 (this log file) directly; Python loggers (llama.cpp's
    # routed native log among them) go there too.
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    # llama.cpp's own lines (routed through logging by its engine) read as they would on
    # a terminal, so the lines a crash message quotes are the library's words.
    native = logging.StreamHandler(sys.stderr)
    native.setFormatter(logging.Formatter("%(message)s"))
    native_log = logging.getLogger("backends.chat.llama_cpp.native")
    native_log.addHandler(native)
    native_log.propagate = False
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{HOST_LOG_PREFIX} {os.getpid()} started {started}", file=sys.stderr, flush=True)
    host.serve()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
