"""Warm spare engine hosts, one per engine kind used: a switch takes its kind's spare
(runtime already imported), the spare is replaced after use, kinds do not evict each
other, an unload-then-load switch still finds its spare, idle spares cool down, and no
spare outlives the app."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from backends.base import ModelSpec
from backends.host.hosted_engine import HostedEngine
from backends.host.spawn import spawner
from tests.fixtures.warm_engines import ChatKindEngine, ImageKindEngine

CHAT = "tests.fixtures.warm_engines:ChatKindEngine"
IMAGE = "tests.fixtures.warm_engines:ImageKindEngine"
ROOT = Path(__file__).resolve().parents[3]


class Hosted(HostedEngine[str]):
    def report(self) -> tuple[int, bool]:
        self._ready()
        return self.host.call("report")  # type: ignore[no-any-return]


def _load(target: str, tmp_path: Path, name: str) -> Hosted:
    engine_class = ChatKindEngine if target == CHAT else ImageKindEngine
    engine = Hosted(engine_class, target)
    spec = ModelSpec(key=f"{name}:1", name=name, engine=engine_class.name,
                     path=str(tmp_path), source="path")  # fmt: skip
    engine.load(spec, "options")
    return engine


def _warm_pid(target: str) -> int:
    assert spawner.wait_for_spare()
    future, _ = spawner._warm[target]
    return future.result().process.pid


@pytest.fixture
def engines(spare_hosts: None) -> Iterator[list[Hosted]]:
    loaded: list[Hosted] = []
    yield loaded
    for engine in loaded:
        engine.unload()
    spawner.drop_spare()


def test_a_switch_takes_its_kinds_warm_spare_and_the_spare_is_replaced(
    engines: list[Hosted], tmp_path: Path
) -> None:
    engines.append(_load(CHAT, tmp_path, "chat-1"))
    spare = _warm_pid(CHAT)

    engines.append(_load(CHAT, tmp_path, "chat-2"))

    # The spare, whose runtime was imported (wait_for_spare saw its "ready") before.
    assert engines[1].report() == (spare, True)
    replacement = _warm_pid(CHAT)
    assert replacement != spare and psutil.pid_exists(replacement)


def test_each_kind_keeps_its_own_spare(engines: list[Hosted], tmp_path: Path) -> None:
    engines.append(_load(CHAT, tmp_path, "chat-1"))
    chat_spare = _warm_pid(CHAT)
    engines.append(_load(IMAGE, tmp_path, "image-1"))
    image_spare = _warm_pid(IMAGE)
    assert spawner.warm_kinds() == [CHAT, IMAGE]

    engines.append(_load(CHAT, tmp_path, "chat-2"))  # back to chat after images
    engines.append(_load(IMAGE, tmp_path, "image-2"))

    assert engines[2].report() == (chat_spare, True)
    assert engines[3].report() == (image_spare, True)


def test_unload_then_load_finds_the_spare(engines: list[Hosted], tmp_path: Path) -> None:
    """The Images screen frees the old model before loading the next: for a moment no
    engine runs, which used to cool the warm spare down just before it was needed."""
    first = _load(IMAGE, tmp_path, "image-1")
    spare = _warm_pid(IMAGE)
    first.unload()

    engines.append(_load(IMAGE, tmp_path, "image-2"))

    assert engines[0].report() == (spare, True)


def test_idle_spares_cool_down(engines: list[Hosted], tmp_path: Path) -> None:
    spawner.cool_down_delay_s = 0.0
    try:
        first = _load(IMAGE, tmp_path, "image-1")
        spare = _warm_pid(IMAGE)
        first.unload()
    finally:
        spawner.cool_down_delay_s = 30.0

    assert spawner.warm_kinds() == []
    assert _ended(spare)
    assert spawner.wait_for_spare()  # one cold spare kept
    assert [label for _, label in spawner.spare_processes()] == ["spare"]


def test_least_recently_used_kind_goes_first(
    engines: list[Hosted], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spawner, "MAX_WARM_SPARES", 1)
    engines.append(_load(CHAT, tmp_path, "chat-1"))
    chat_spare = _warm_pid(CHAT)
    engines.append(_load(IMAGE, tmp_path, "image-1"))
    _warm_pid(IMAGE)

    assert spawner.warm_kinds() == [IMAGE]
    assert _ended(chat_spare)


def test_no_spare_outlives_the_app(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from backends.host.process import HostProcess
        from backends.host.spawn import spawner
        spawner.prestart()
        spawner.prestart(warm=("init", {CHAT!r}, {{}}, [], "."))
        assert spawner.wait_for_spare()
        print(" ".join(str(pid) for pid, _ in spawner.spare_processes()))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2
    assert all(_ended(pid) for pid in pids)


def _ended(pid: int) -> bool:
    """Whether the process has exited (waiting up to 10 s for it)."""
    try:
        process = psutil.Process(pid)
        process.wait(timeout=10)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    return True
