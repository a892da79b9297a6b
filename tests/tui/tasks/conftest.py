"""The app with a task session, and helpers to read the Tasks screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from backends.models.manager import ModelManager
from backends.registry import create_task_engine
from backends.settings import load_settings
from backends.store.conversations import ConversationStore
from backends.tasks.session import TaskSession
from tests.tui.conftest import QuietGauge
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.tasks.tasks_screen import TasksScreen


@pytest.fixture
def tasks_app(tmp_path: Path) -> Callable[..., LocalAIApp]:
    """`hosted=False` runs the engine in the app's process (faster to start)."""

    def build(hosted: bool = False) -> LocalAIApp:
        settings = load_settings(images={"renderer": "halfcell"})
        session = TaskSession(lambda name: create_task_engine(name, hosted=hosted), threads=1)
        return LocalAIApp(
            settings,
            store=ConversationStore(tmp_path / "data" / "conversations.sqlite3"),
            manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
            gauge=QuietGauge(),
            tasks=session,
        )

    return build


def screen(app: LocalAIApp) -> TasksScreen:
    assert isinstance(app.screen, TasksScreen)
    return app.screen


def status(app: LocalAIApp) -> str:
    return str(app.screen.query_one("#tasks-status").render())


def result_text(app: LocalAIApp) -> str:
    """The result view as plain text (what the user reads)."""
    from rich.console import Console

    view = app.screen.query_one("#tasks-result", Static).content
    console = Console(width=110, record=True, color_system=None)
    console.print(view)
    return console.export_text()


async def open_tasks(pilot: Pilot) -> TasksScreen:
    await pilot.press("f12")
    await until(pilot, lambda: isinstance(pilot.app.screen, TasksScreen), "tasks screen")
    return pilot.app.screen  # type: ignore[return-value]


async def load(pilot: Pilot, spec: object, task: str | None = None) -> None:
    tasks = await open_tasks(pilot)
    tasks.load_model(spec, task)  # type: ignore[arg-type]
    await until(pilot, lambda: "Loaded" in status(pilot.app) or "rror" in status(pilot.app),
                "model loaded", tries=6000)  # fmt: skip
    assert "Loaded" in status(pilot.app), status(pilot.app)


async def run_text(pilot: Pilot, text: str) -> None:
    area = pilot.app.screen.query_one("#tasks-text")
    area.text = text  # type: ignore[attr-defined]
    await pilot.press("ctrl+r")
    await until(pilot, lambda: status(pilot.app).startswith(("Done", "Stopped")), "run done",
                tries=6000)  # fmt: skip
