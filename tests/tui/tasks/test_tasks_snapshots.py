"""Pictures of the Tasks screen: the NER, detection and similarity views."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.tasks import task_spec
from tests.tui.tasks.conftest import load, run_text, status
from tests.tui.waiting import until
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


def test_detection_view(
    snap_compare,  # type: ignore[no-untyped-def]
    tasks_app: Callable[..., LocalAIApp],
    task_models: dict[str, Path],
    task_picture: Path,
) -> None:
    """Tasks with the tiny YOLOS loaded for object-detection, threshold 0: the picture (drawn
    in half cells) with each detection's box in its colour over it, and beside it the table of
    detections (label, score, box corners) the seeded model gives. The file line reads
    "picture.png" (the test's folder varies run to run) and the status "Done."."""
    app = tasks_app()

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await load(pilot, task_spec(task_models["yolos"]), "object-detection")
        app.screen.query_one("#tasks-threshold").value = "0"  # type: ignore[attr-defined]
        field = app.screen.query_one("#tasks-file")
        field.value = str(task_picture)  # type: ignore[attr-defined]
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: status(app).startswith("Done"), "run done", tries=6000)
        picture = app.screen.query_one("#tasks-picture")
        # The picture is drawn in a worker (boxes over it) and swapped in when the item is
        # done: wait for every worker, then for the widget that draws it.
        await app.workers.wait_for_complete()
        await until(pilot, lambda: bool(picture.query(".image")), "picture drawn")
        await pilot.pause()
        assert len(picture.query(".image")) == 1  # two were stacked at half height
        field.value = task_picture.name  # type: ignore[attr-defined]
        app.screen._status("Done.")  # type: ignore[attr-defined]
        app.screen.set_focus(None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_similarity_view(
    snap_compare,  # type: ignore[no-untyped-def]
    tasks_app: Callable[..., LocalAIApp],
    task_models: dict[str, Path],
) -> None:
    """Tasks with the tiny BERT loaded for feature-extraction: three typed lines, and under
    them the cosine similarity matrix of their pooled embeddings (1.000 on the diagonal,
    each row labelled with its line). The status reads "Done."."""
    app = tasks_app()

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await load(pilot, task_spec(task_models["sentiment"]), "feature-extraction")
        app.screen.query_one("#tasks-text").cursor_blink = False  # type: ignore[attr-defined]
        await run_text(pilot, "the river city\nthe capital of france\ni love music")
        app.screen._status("Done.")  # type: ignore[attr-defined]
        app.screen.set_focus(None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
