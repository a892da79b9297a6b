"""HostedChatEngine: the chat contract over a host, plus what only a host can give —
a stop that always works, crashes that leave the app able to answer again, the llama.cpp
SIGILL self-heal, memory that is the host's and comes back on unload."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from backends import registry
from backends.base import (
    ChatEngine,
    ChatEvent,
    ChatMessage,
    GenerationParams,
    LoadOptions,
    ModelSpec,
    Notice,
    StreamFinished,
    TextDelta,
)
from backends.chat.llama_repack import VERDICT_FILE, build_key
from backends.device import DeviceMonitor
from backends.errors import LoadCancelled
from backends.host.chat_proxy import HostedChatEngine
from backends.host.client import EngineCrashed, live_hosts
from backends.models.manager import ModelManager
from backends.paths import data_dir
from backends.settings import load_settings
from tests.fixtures.host_engines import host_test_engines, host_test_spec, llama_like_spec

__all__ = ["host_test_engines"]

MESSAGES = [ChatMessage("user", "hi")]
PARAMS = GenerationParams(max_new_tokens=8)


@pytest.fixture
def engines(host_test_engines: None) -> Iterator[list[ChatEngine]]:
    made: list[ChatEngine] = []
    yield made
    for engine in made:
        engine.unload()


def _engine(engines: list[ChatEngine], name: str = "host_test") -> HostedChatEngine:
    engine = registry.create_engine(name)
    assert isinstance(engine, HostedChatEngine)
    engines.append(engine)
    return engine


def _text(events: list[ChatEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_create_engine_hosts_local_engines_and_keeps_an_in_process_escape_hatch(
    engines: list[ChatEngine],
) -> None:
    hosted = registry.create_engine("llama_cpp")
    engines.append(hosted)
    assert isinstance(hosted, HostedChatEngine) and isinstance(hosted, ChatEngine)
    assert hosted.name == "llama_cpp" and "n_ctx" in hosted.capabilities.load_options
    assert not isinstance(registry.create_engine("llama_cpp", hosted=False), HostedChatEngine)
    assert not isinstance(registry.create_engine("openai"), HostedChatEngine)


def test_esc_on_a_stuck_engine_ends_the_stream_fast_keeps_the_partial_and_replaces_the_host(
    engines: list[ChatEngine], tmp_path: Path
) -> None:
    engine = _engine(engines)
    engine.load(host_test_spec("stuck", tmp_path / "m"), LoadOptions())
    stuck_pid = engine.host.pid
    assert stuck_pid is not None
    cancel = threading.Event()
    events: list[ChatEvent] = []
    ended_after = None

    for event in engine.stream(MESSAGES, PARAMS, cancel):
        events.append(event)
        if _text(events) == "Partial answer" and not cancel.is_set():
            cancel.set()
            pressed = time.monotonic()
        if isinstance(event, StreamFinished):
            ended_after = time.monotonic() - pressed

    assert _text(events) == "Partial answer"
    finish = events[-1]
    assert isinstance(finish, StreamFinished) and finish.finish_reason == "cancelled"
    assert finish.completion_tokens == 2
    assert ended_after is not None and ended_after < 0.5
    # The stuck host is killed after STOP_GRACE_S and the model comes back in a new one;
    # the next answer waits for that, and works.
    assert _text(list(engine.stream(MESSAGES, PARAMS))) == "Partial answer done."
    assert not psutil.pid_exists(stuck_pid)  # killed and reaped
    assert engine.host.pid != stuck_pid and engine.loaded


def test_a_stop_the_engine_honours_keeps_its_host(
    engines: list[ChatEngine], tmp_path: Path
) -> None:
    engine = _engine(engines)
    engine.load(host_test_spec("ok", tmp_path / "m", armed=False), LoadOptions())
    pid = engine.host.pid
    cancel = threading.Event()
    events = []
    for event in engine.stream(MESSAGES, PARAMS, cancel):
        events.append(event)
        cancel.set()

    assert _text(events) == "Partial"
    assert isinstance(events[-1], StreamFinished) and events[-1].finish_reason == "cancelled"
    assert _text(list(engine.stream(MESSAGES, PARAMS))) == "Partial answer done."
    assert engine.host.pid == pid and engine.host.starts == 1


def test_a_cancelled_load_stuck_in_native_code_ends_with_its_process(
    engines: list[ChatEngine], tmp_path: Path
) -> None:
    engine = _engine(engines)
    cancel = threading.Event()
    pids: list[int | None] = []

    def progress(_: object) -> None:  # the load has started: the user presses Esc
        pids.append(engine.host.pid)
        cancel.set()

    started = time.monotonic()
    with pytest.raises(LoadCancelled):
        engine.load(
            host_test_spec("stuck-load", tmp_path / "m"),
            LoadOptions(),
            progress=progress,
            cancel=cancel,
        )

    assert time.monotonic() - started < 5  # not the 60 s the load sleeps
    assert pids and pids[0] is not None and not psutil.pid_exists(pids[0])
    assert not engine.loaded and live_hosts() == []


@pytest.mark.parametrize("mode", ["SIGSEGV", "SIGKILL"])
def test_a_crash_mid_answer_is_an_error_and_the_next_answer_works(
    engines: list[ChatEngine], tmp_path: Path, mode: str
) -> None:
    engine = _engine(engines)
    engine.load(host_test_spec(mode, tmp_path / "m"), LoadOptions())
    events: list[ChatEvent] = []

    with pytest.raises(EngineCrashed) as raised:
        for event in engine.stream(MESSAGES, PARAMS):
            events.append(event)

    assert _text(events) == "Partial answer"
    assert raised.value.signal_number == getattr(signal, mode)
    assert engine.loaded  # resending loads the same model in a new host
    assert _text(list(engine.stream(MESSAGES, PARAMS))) == "Partial answer done."


def test_sigill_in_llama_cpp_reloads_without_repacked_kernels_and_remembers(
    engines: list[ChatEngine], tmp_path: Path
) -> None:
    spec = llama_like_spec(tmp_path / "m")
    engine = _engine(engines, "llama_like")
    engine.load(spec, LoadOptions())

    events = list(engine.stream(MESSAGES, PARAMS))

    notices = [e.text for e in events if isinstance(e, Notice)]
    assert len(notices) == 1 and "without" in notices[0] and "GGML_NATIVE=OFF" in notices[0]
    assert _text(events) == "Fine without repacking."
    assert isinstance(events[-1], StreamFinished) and events[-1].finish_reason == "stop"
    assert engine.host.starts == 2
    verdict = json.loads((data_dir() / VERDICT_FILE).read_text())
    assert verdict[build_key()]["use_extra_bufts"] is False

    # The next start on this build and CPU goes straight to the safe setting: no crash.
    again = _engine(engines, "llama_like")
    again.load(spec, LoadOptions())
    assert _text(list(again.stream(MESSAGES, PARAMS))) == "Fine without repacking."
    assert again.host.starts == 1


def test_footprint_is_the_hosts_rss_and_unload_reaps_the_host(
    engines: list[ChatEngine], tmp_path: Path
) -> None:
    engine = _engine(engines)
    engine.load(host_test_spec("ok", tmp_path / "m", armed=False), LoadOptions())
    pid = engine.host.pid
    assert pid is not None

    footprint = engine.memory_footprint()
    assert footprint.ram_bytes == pytest.approx(psutil.Process(pid).memory_info().rss, rel=0.2)
    assert [h.pid for h in live_hosts()] == [pid]
    assert [(h.pid, h.label) for h in DeviceMonitor().sample().hosts] == [(pid, "host-test")]

    engine.unload()

    assert not psutil.pid_exists(pid) and live_hosts() == []
    assert engine.memory_footprint().ram_bytes == 0 and not engine.loaded


@pytest.mark.slow
def test_twenty_switches_leave_no_zombie_and_no_growing_memory(
    spare_hosts: None, tiny_gguf_spec: ModelSpec, tiny_gguf_q8_spec: ModelSpec, tmp_path: Path
) -> None:
    manager = ModelManager(load_settings(), recents_path=tmp_path / "recent.json")
    me = psutil.Process()
    options = LoadOptions(n_ctx=256)

    def tree_rss() -> int:
        from backends.host.spawn import spawner

        spawner.wait_for_spare()  # a spare half-way through its imports would skew this
        return me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))

    manager.switch(tiny_gguf_spec, options)
    manager.switch(tiny_gguf_q8_spec, options)
    after_two = tree_rss()
    for index in range(20):
        manager.switch(tiny_gguf_spec if index % 2 else tiny_gguf_q8_spec, options)
    grown = tree_rss() - after_two
    manager.unload()

    zombies = [c for c in me.children(recursive=True) if c.status() == psutil.STATUS_ZOMBIE]
    assert zombies == []
    assert live_hosts() == []
    assert grown < 30 * 1024 * 1024, f"process tree grew by {grown / 1e6:.0f} MB"


@pytest.mark.slow
def test_a_switch_takes_the_warm_spare_and_an_unload_cools_it(
    spare_hosts: None, tiny_gguf_spec: ModelSpec, tiny_gguf_q8_spec: ModelSpec, tmp_path: Path
) -> None:
    from backends.host.spawn import spawner

    manager = ModelManager(load_settings(), recents_path=tmp_path / "recent.json")
    options = LoadOptions(n_ctx=256)
    manager.switch(tiny_gguf_spec, options)
    assert spawner.wait_for_spare()
    assert spawner.warm_kinds() == ["backends.chat.llama_cpp:LlamaCppEngine"]
    spare_pid = spawner._warm["backends.chat.llama_cpp:LlamaCppEngine"][0].result().process.pid
    shown = [(h.pid, h.label) for h in DeviceMonitor().sample().hosts]
    assert shown[-1] == (spare_pid, "spare")  # its memory is on the gauge

    engine = manager.switch(tiny_gguf_q8_spec, options)

    assert isinstance(engine, HostedChatEngine) and engine.host.pid == spare_pid
    assert engine.host.starts == 1
    host_log = engine.host.log_path.read_text() if engine.host.log_path else ""
    assert "llama_cpp:LlamaCppEngine ready" in host_log  # its warm-up ran, and worked:
    assert "warm-up failed" not in host_log
    spawner.cool_down_delay_s = 0.0  # no engine runs after this unload: cool down now
    try:
        manager.unload()
    finally:
        spawner.cool_down_delay_s = 30.0
    assert spawner.warm_kinds() == [] and spawner._cold is not None  # cold again
    assert live_hosts() == []
