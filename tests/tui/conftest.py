"""Chat UI fixtures: an app around tmp dirs with the scripted engine registered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backends.base import ModelSpec
from backends.device import DeviceMonitor, DeviceSnapshot
from backends.models.manager import ModelManager
from backends.settings import Settings, load_settings
from backends.store.conversations import ConversationStore
from tests.fixtures.scripted_engine import Script, scripted_engines, scripted_spec
from tui.app import LocalAIApp
from tui.widgets.device_gauge import DeviceGauge

__all__ = ["scripted_engines"]


@pytest.fixture(autouse=True)
def notices_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every notification an app posts is also kept in `app.notices_seen`: a toast leaves
    `app._notifications` when its time is up, which on a loaded machine can come before the
    test reads it (a 5 s toast was gone when a slow test looked)."""
    from textual.app import App

    notify = App.notify

    def keeping(self: App[object], message: object, *args: object, **kwargs: object) -> None:
        self.__dict__.setdefault("notices_seen", []).append(
            (str(kwargs.get("title", "")), str(message))
        )
        notify(self, message, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(App, "notify", keeping)


class FixedMonitor(DeviceMonitor):
    """The same machine every time (no GPU), so screen pictures are stable."""

    def sample(self) -> DeviceSnapshot:
        return DeviceSnapshot(
            ram_used=6_200_000_000,
            ram_total=24_000_000_000,
            process_rss=120_000_000,
            cpu_percent=12.0,
            gpus=(),
            torch_allocated={},
            mps_allocated=None,
            gpu_note="No NVIDIA GPU",
        )


class QuietGauge(DeviceGauge):
    """The real gauge widget reading FixedMonitor exactly once (at mount)."""

    def __init__(self) -> None:
        super().__init__(FixedMonitor(), interval=3600)

    def sample_now(self) -> None:
        pass


@pytest.fixture
def make_app(tmp_path: Path, scripted_engines: dict[str, Script]) -> Callable[..., LocalAIApp]:
    """Builds LocalAIApp on the test's data dir; a second call is 'the app after a restart'."""

    def build(
        startup: ModelSpec | None = None, settings: Settings | None = None, **more: Any
    ) -> LocalAIApp:
        settings = settings or load_settings()
        store = ConversationStore(tmp_path / "data" / "conversations.sqlite3")
        manager = ModelManager(settings, recents_path=tmp_path / "data" / "recent_models.json")
        return LocalAIApp(
            settings,
            store=store,
            manager=manager,
            startup_model=startup,
            gauge=QuietGauge(),
            **more,
        )

    return build


@pytest.fixture
def model_a(scripted_engines: dict[str, Script]) -> ModelSpec:
    scripted_engines["a"] = Script(tokens=["Hello", " from", " **A**", "."])
    return scripted_spec("a", "Model A")


@pytest.fixture
def model_b(scripted_engines: dict[str, Script]) -> ModelSpec:
    scripted_engines["b"] = Script(tokens=["Hi", " from", " B", "."])
    return scripted_spec("b", "Model B")
