"""Writing finished pictures beside the image queue, so the next job never waits for a save.

Encoding a PNG and adding its gallery row took 30-80 ms per 512x512 picture here (measured
with bench/remote_image.py): time the user spent looking at a picture already on screen, and
time the next queued job waited. The saver writes pictures one after another, in order, in
a thread of its own. That thread is not a daemon: a picture that was shown is written even
when the app quits right after, because the interpreter waits for it at exit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from backends.errors import BackendError

T = TypeVar("T")
Done = Callable[[T | None, BackendError | None], None]


class BackgroundSaver(Generic[T]):
    """`submit(save, done)`: `save()` runs in the saver's thread, then `done(value, None)`
    or `done(None, error)` (any exception becomes a BackendError via `on_failure`)."""

    def __init__(self, on_failure: Callable[[BaseException], BackendError]) -> None:
        self._on_failure = on_failure
        self._work: queue.SimpleQueue[tuple[Callable[[], T], Done[T]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, save: Callable[[], T], done: Done[T]) -> None:
        with self._lock:
            self._work.put((save, done))
            self._idle.clear()
            if not self._running:
                self._running = True
                # Not a daemon: at exit the interpreter waits for the pictures in hand.
                threading.Thread(target=self._run, name="image-saver", daemon=False).start()

    def wait(self, timeout: float | None = None) -> bool:
        """True once everything submitted so far is written (or failed)."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                try:
                    save, done = self._work.get_nowait()
                except queue.Empty:
                    self._running = False
                    self._idle.set()
                    return
            try:
                value = save()
            except BackendError as error:
                done(None, error)
            except Exception as error:  # a bug must still reach the user as a sentence
                done(None, self._on_failure(error))
            else:
                done(value, None)
