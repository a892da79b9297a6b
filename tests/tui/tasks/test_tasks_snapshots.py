"""A picture of the Tasks screen's NER view."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.tasks import task_spec
from tests.tui.tasks.conftest import load, run_text
from tui.app import LocalAIApp

pytestmark = pytest.mark.slow


def test_ner_view(
    snap_compare,  # type: ignore[no-untyped-def]
    tasks_app: Callable[..., LocalAIApp],
    task_models: dict[str, Path],
) -> None:
    """The navigation bar with Tasks open; title "Tasks · ner · token-classification · cpu
    float32"; the task list on
    "token-classification", aggregation "simple"; the text "John Smith lives in Paris" in the
    text box; below it the same text with each entity span coloured, underlined and followed by its
    group ("john[PER]"...), then a table of the entities with their scores and character
    spans. The status line's timing is replaced by "Done." (it varies run to run)."""
    app = tasks_app()

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await load(pilot, task_spec(task_models["ner"]), "token-classification")
        app.screen.query_one("#tasks-text").cursor_blink = False  # type: ignore[attr-defined]
        await run_text(pilot, "John Smith lives in Paris")
        app.screen._status("Done.")  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
