"""The saver writes every picture handed to it, in order, off the queue's thread, and its
thread is not a daemon (a shown picture is written even when the app quits at once)."""

from __future__ import annotations

import threading

from backends.errors import BackendError, StorageError
from backends.image.background_saver import BackgroundSaver
from backends.image.jobs import engine_failure


def test_every_save_runs_in_order_and_reports() -> None:
    saver: BackgroundSaver[int] = BackgroundSaver(engine_failure)
    gate = threading.Event()
    threads: list[threading.Thread] = []
    done: list[tuple[int | None, str | None]] = []

    def save(n: int) -> int:
        gate.wait(10)
        threads.append(threading.current_thread())
        if n == 2:
            raise StorageError("disk full", title="Image not saved")
        if n == 3:
            raise ValueError("a bug")
        return n

    def report(value: int | None, error: BackendError | None) -> None:
        done.append((value, error.title if error else None))

    for n in range(1, 5):
        saver.submit(lambda n=n: save(n), report)
    assert not saver.wait(0)  # held: nothing written yet, and submit did not block
    gate.set()
    assert saver.wait(10)
    assert done == [(1, None), (None, "Image not saved"), (None, "Image failed"), (4, None)]
    assert all(not t.daemon and t is not threading.main_thread() for t in threads)
