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
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from backends.host import protocol
from backends.host.crash import HOST_LOG_PREFIX

_PR_SET_PDEATHSIG = 1
COALESCE_S = 0.001


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
        self._held: list[Any] = []  # yielded items waiting to go with the next ones
        self._running = 0  # the request being run
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

    def _stream(self, rid: int, items: Iterator[Any]) -> None:
        """Send what a generator yields as it comes; an item that follows the previous send
        within COALESCE_S waits to go with the next one (or the end).

        A message per item cost the tiny test GGUF a third of its 4,000-6,000 tokens/s;
        a real model's tokens are milliseconds apart and each goes out alone. The price:
        after a burst, the last item of it may wait for the next one.
        """
        last_send = 0.0
        try:
            for item in items:
                now = time.perf_counter()
                with self._send_lock:
                    self._held.append(item)
                    if now - last_send < COALESCE_S:
                        continue
                    self._send_held(rid)
                last_send = now
        finally:
            with self._send_lock:
                self._send_held(rid)

    def _send_held(self, rid: int) -> None:
        """Send the held items (caller holds the send lock)."""
        held, self._held = self._held, []
        if len(held) == 1:
            self._conn.send((protocol.YIELD, rid, held[0]))
        elif held:
            self._conn.send((protocol.YIELD_MANY, rid, held))

    def flush(self) -> None:
        """Send any held items now (see `flush` below)."""
        with self._send_lock:
            if self._held:
                self._send_held(self._running)

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
        self._running = rid
        if wants_progress:
            kwargs["progress"] = self._progress_sender(rid)
        if wants_cancel:
            kwargs["cancel"] = self._cancel_event(rid)
        try:
            attribute = getattr(self._engine, method)
            if kind == protocol.ITER:
                self._stream(rid, attribute(*args, **kwargs))
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


_current: _Host | None = None


def flush() -> None:
    """Send what the engine yielded so far and write the log out now: for code about to
    do something that may kill the process (a test engine crashing on purpose). A no-op
    outside a host."""
    if _current is not None:
        _current.flush()
    sys.stderr.flush()


def main(argv: list[str]) -> None:
    fd, parent_pid = int(argv[0]), int(argv[1])
    _die_with_parent(parent_pid)
    conn = Connection(fd)
    host = _Host(conn)
    global _current
    _current = host
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
    # Run as `backends.host.child`, not `__main__`, so an engine that imports this module
    # (for `flush`) finds the running host.
    from backends.host import child

    child.main(sys.argv[1:])
