"""The hosted-engine base's contract, through the smallest capability one can write on it
(what a TTS or a pipeline-task proxy does): load and unload, a cancel that ends the call
at once whether or not the host stops, the kill and background reload, the reload error
kept for the next call, and a crash that the next call recovers from."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from backends.base import ModelSpec
from backends.errors import BackendError, ModelNotFound
from backends.host.client import EngineCrashed
from backends.host.hosted_engine import HostedEngine
from tests.fixtures.counting_engine import CountingEngine


class HostedCounter(HostedEngine[str]):
    cancel_grace_s = 0.2

    def count(
        self,
        n: int,
        stuck_at: int | None = None,
        how: str = "sleep",
        cancel: threading.Event | None = None,
    ) -> Iterator[int | str]:
        self._ready()
        cancel = cancel if cancel is not None else threading.Event()
        finished = False
        for item in self._iterate("count", n, stuck_at, how, cancel=cancel):
            if cancel.is_set():
                continue  # on its way when the caller said stop
            finished = item == "done"
            yield item
        if not finished:
            yield "cancelled"


@pytest.fixture
def model(tmp_path: Path) -> ModelSpec:
    (tmp_path / "model").mkdir()
    return ModelSpec(key="counting:1", name="counter", engine="counting",
                     path=str(tmp_path / "model"), source="path")  # fmt: skip


@pytest.fixture
def counter(model: ModelSpec) -> Iterator[HostedCounter]:
    engine = HostedCounter(CountingEngine, "tests.fixtures.counting_engine:CountingEngine")
    engine.load(model, "options")
    yield engine
    engine.unload()


def _cancel_at(counter: HostedCounter, at: int, stuck_at: int | None) -> list[int | str]:
    cancel = threading.Event()
    seen: list[int | str] = []
    for item in counter.count(1000, stuck_at, cancel=cancel):
        seen.append(item)
        if item == at:
            cancel.set()
    return seen


def test_load_count_unload(counter: HostedCounter) -> None:
    assert counter.loaded and counter.memory_footprint().ram_bytes > 0
    assert list(counter.count(3)) == [0, 1, 2, "done"]
    pid = counter.host.pid
    counter.unload()
    assert not counter.loaded and counter.memory_footprint().ram_bytes == 0
    assert pid is not None and not psutil.pid_exists(pid)
    with pytest.raises(BackendError, match="No model is loaded"):
        list(counter.count(1))


def test_a_failed_load_leaves_no_process(model: ModelSpec) -> None:
    (Path(model.path or "") / "broken").write_text("")
    engine = HostedCounter(CountingEngine, "tests.fixtures.counting_engine:CountingEngine")
    with pytest.raises(ModelNotFound):
        engine.load(model, "options")
    assert not engine.loaded and not engine.host.alive


def test_a_host_that_stops_keeps_its_process(counter: HostedCounter) -> None:
    pid = counter.host.pid
    assert _cancel_at(counter, 2, stuck_at=None) == [0, 1, 2, "cancelled"]
    assert list(counter.count(2)) == [0, 1, "done"]
    assert counter.host.pid == pid and counter.host.starts == 1


def test_a_stuck_host_is_killed_and_the_model_loaded_again(counter: HostedCounter) -> None:
    pid = counter.host.pid
    assert _cancel_at(counter, 1, stuck_at=1) == [0, 1, "cancelled"]  # ended at once
    assert list(counter.count(2)) == [0, 1, "done"]  # waited for the reload
    assert counter.host.starts == 2 and pid is not None and not psutil.pid_exists(pid)


def test_a_reload_that_failed_is_reported_by_the_next_call(
    counter: HostedCounter, model: ModelSpec
) -> None:
    (Path(model.path or "") / "broken").write_text("")
    _cancel_at(counter, 1, stuck_at=1)
    with pytest.raises(ModelNotFound):
        list(counter.count(2))
    (Path(model.path or "") / "broken").unlink()
    assert list(counter.count(2)) == [0, 1, "done"]  # the next one loads it again


def test_a_crash_raises_and_the_next_call_loads_again(counter: HostedCounter) -> None:
    with pytest.raises(EngineCrashed):
        list(counter.count(5, stuck_at=1, how="die"))
    assert counter.loaded
    assert list(counter.count(2)) == [0, 1, "done"]
    assert counter.host.starts == 2
