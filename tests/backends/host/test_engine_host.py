"""EngineHost: any engine class in a child process — calls, progress, errors, streams,
cancel, crashes explained, and no process left behind."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from backends.base import GenerationParams, LoadOptions, LoadProgress, StreamFinished, TextDelta
from backends.errors import BackendError, ModelNotFound
from backends.host.client import EngineCrashed, EngineHost, live_hosts
from backends.host.crash import MemoryReading, explain_exit, log_tail
from tests.fixtures.host_engines import ASSERT_LINE, host_test_spec

TARGET = "tests.fixtures.host_engines:HostTestEngine"
PARAMS = GenerationParams(max_new_tokens=8)


@pytest.fixture
def host() -> Iterator[EngineHost]:
    host = EngineHost(TARGET, label="test")
    yield host
    host.close()


def _gone(pid: int) -> bool:
    """No such process, not even a zombie (pid_exists is true for a zombie)."""
    return not psutil.pid_exists(pid)


def test_calls_run_in_another_process_with_progress_in_the_callers_thread(
    host: EngineHost, tmp_path: Path
) -> None:
    seen: list[tuple[LoadProgress, str]] = []
    spec = host_test_spec("ok", tmp_path / "m", armed=False)

    host.call(
        "load",
        spec,
        LoadOptions(),
        progress=lambda p: seen.append((p, threading.current_thread().name)),
    )

    child_pid = host.call("pid")
    assert child_pid == host.pid and child_pid != os.getpid()
    assert host.call("loaded") is True  # attributes are read, not called
    assert seen == [
        (LoadProgress(0.5, f"Loading in process {child_pid}"), threading.current_thread().name)
    ]
    assert host.rss_bytes() > 1_000_000
    assert [h.pid for h in live_hosts()] == [child_pid]


def test_a_backend_error_in_the_child_keeps_its_class_title_and_message(
    host: EngineHost, tmp_path: Path
) -> None:
    missing = host_test_spec("ok", tmp_path / "m", armed=False)
    missing = type(missing)(**{**missing.__dict__, "path": str(tmp_path / "nowhere")})

    with pytest.raises(ModelNotFound) as raised:
        host.call("load", missing, LoadOptions())

    assert raised.value.title == "Model not found"
    assert raised.value.message == f"No test model at {tmp_path / 'nowhere'}."
    assert host.alive  # an error is not a crash


def test_other_exceptions_become_a_backend_error_with_their_text(host: EngineHost) -> None:
    with pytest.raises(BackendError) as raised:
        host.call("no_such_method")

    assert type(raised.value) is BackendError
    assert "AttributeError" in raised.value.message and "no_such_method" in raised.value.message


def test_iterate_streams_events_in_order(host: EngineHost, tmp_path: Path) -> None:
    host.call("load", host_test_spec("ok", tmp_path / "m", armed=False), LoadOptions())

    events = list(host.iterate("stream", [], PARAMS))

    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Partial", " answer", " done."]
    assert isinstance(events[-1], StreamFinished) and events[-1].finish_reason == "stop"


@pytest.mark.parametrize("mode", ["SIGSEGV", "SIGILL", "SIGABRT", "SIGKILL"])
def test_a_host_killed_by_a_signal_raises_engine_crashed_and_is_reaped(
    host: EngineHost, tmp_path: Path, mode: str
) -> None:
    host.call("load", host_test_spec(mode, tmp_path / "m"), LoadOptions())
    pid = host.pid
    assert pid is not None
    texts: list[str] = []

    with pytest.raises(EngineCrashed) as raised:
        for event in host.iterate("stream", [], PARAMS):
            if isinstance(event, TextDelta):
                texts.append(event.text)

    crash = raised.value
    assert texts == ["Partial", " answer"]  # what came before the crash arrived
    assert crash.signal_number == getattr(signal, mode)
    assert crash.log_path is not None and str(crash.log_path) in crash.message
    assert not host.alive and _gone(pid) and live_hosts() == []
    if mode == "SIGABRT":
        assert ASSERT_LINE in crash.message  # the native log line the user needs
    if mode == "SIGILL":
        assert "CPU" in crash.message and "GGML_NATIVE=OFF" in crash.message


def test_the_next_call_after_a_crash_starts_a_new_process(host: EngineHost, tmp_path: Path) -> None:
    host.call("load", host_test_spec("SIGSEGV", tmp_path / "m"), LoadOptions())
    first = host.pid
    with pytest.raises(EngineCrashed):
        list(host.iterate("stream", [], PARAMS))

    assert host.call("loaded") is False  # a fresh engine object in a fresh process
    assert host.pid != first and host.starts == 2


def test_a_stuck_child_is_killed_after_the_grace_and_the_iteration_ends(
    host: EngineHost, tmp_path: Path
) -> None:
    host.call("load", host_test_spec("stuck", tmp_path / "m"), LoadOptions())
    pid = host.pid
    assert pid is not None
    cancel = threading.Event()
    texts: list[str] = []
    started = 0.0

    for event in host.iterate("stream", [], PARAMS, cancel=cancel, grace_s=0.2):
        if isinstance(event, TextDelta):
            texts.append(event.text)
            if len(texts) == 2:
                cancel.set()
                started = time.monotonic()

    assert time.monotonic() - started < 2.0  # not the 60 s the engine sleeps
    assert texts == ["Partial", " answer"]
    assert not host.alive and _gone(pid)


def test_a_detached_stop_ends_the_iteration_at_once_and_kills_a_stuck_child_later(
    host: EngineHost, tmp_path: Path
) -> None:
    host.call("load", host_test_spec("stuck", tmp_path / "m"), LoadOptions())
    pid = host.pid
    assert pid is not None
    cancel = threading.Event()
    ended: list[bool] = []
    done = threading.Event()
    texts: list[str] = []

    def on_end(killed: bool) -> None:
        ended.append(killed)
        done.set()

    for event in host.iterate(
        "stream", [], PARAMS, cancel=cancel, grace_s=0.2, detach=True, on_end=on_end
    ):
        if isinstance(event, TextDelta):
            texts.append(event.text)
            if len(texts) == 2:
                cancel.set()

    assert texts == ["Partial", " answer"]
    assert done.wait(10) and ended == [True]
    assert not host.alive and _gone(pid)


def test_leaving_a_stream_early_leaves_the_host_usable(host: EngineHost, tmp_path: Path) -> None:
    host.call("load", host_test_spec("ok", tmp_path / "m", armed=False), LoadOptions())
    stream = host.iterate("stream", [], PARAMS)
    next(stream)
    stream.close()

    assert host.call("loaded") is True and host.starts == 1


def test_close_ends_and_reaps_the_process(tmp_path: Path) -> None:
    host = EngineHost(TARGET)
    host.start()
    pid = host.pid
    assert pid is not None and psutil.pid_exists(pid)

    host.close()
    host.close()  # safe twice

    assert _gone(pid) and host.pid is None and live_hosts() == []


def test_an_engine_class_that_cannot_be_imported_is_a_clear_error() -> None:
    host = EngineHost("tests.fixtures.no_such_module:Engine")
    with pytest.raises(BackendError) as raised:
        host.start()
    assert "no_such_module" in raised.value.message
    assert not host.alive


def test_sigkill_with_memory_nearly_full_is_explained_as_lack_of_memory() -> None:
    gib = 1024**3
    crash = explain_exit(
        -signal.SIGKILL,
        label="llama.cpp",
        log_path=Path("/tmp/host.log"),
        memory=MemoryReading(host_rss=21 * gib, available=300 * 1024**2, total=24 * gib),
    )

    assert crash.title == "Out of memory"
    assert "stopped by the system for lack of memory" in crash.message
    assert "21.0 GiB" in crash.message and "300 MB" in crash.message
    assert "24.0 GiB" in crash.message


def test_sigkill_of_a_host_holding_most_of_the_memory_is_blamed_on_memory() -> None:
    gib = 1024**3
    crash = explain_exit(
        -signal.SIGKILL,
        label="transformers",
        log_path=None,
        memory=MemoryReading(host_rss=14 * gib, available=6 * gib, total=24 * gib),
    )
    assert crash.title == "Out of memory" and "14.0 GiB" in crash.message


def test_sigkill_with_memory_to_spare_is_not_blamed_on_memory() -> None:
    gib = 1024**3
    crash = explain_exit(
        -signal.SIGKILL,
        label="llama.cpp",
        log_path=None,
        memory=MemoryReading(host_rss=1 * gib, available=12 * gib, total=24 * gib),
    )
    assert "lack of memory" not in crash.message and "SIGKILL" in crash.message


def test_log_tail_leaves_out_the_hosts_own_lines(tmp_path: Path) -> None:
    log = tmp_path / "host.log"
    log.write_text("[host] 12 started\nllama_model_load: error\n\n[host] ready\nGGML_ASSERT(x)\n")
    assert log_tail(log) == ["llama_model_load: error", "GGML_ASSERT(x)"]
