"""The Tasks screen as a user drives it, on tiny random models through the real
`pipeline()`: the numbers on screen are the pipeline's own."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable

from backends.tasks.export import score_text
from tests.fixtures.tasks import task_spec
from tests.tui.tasks.conftest import load, result_text, run_text, screen, status
from tests.tui.waiting import until
from tui.app import LocalAIApp

pytestmark = pytest.mark.slow


def bare(folder: Path, task: str, value: object, **kwargs: object) -> object:
    from transformers import pipeline

    return pipeline(task=task, model=str(folder))(value, **kwargs)


async def test_sentiment_bars_show_the_pipelines_scores_from_a_host(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path]
) -> None:
    app = tasks_app(hosted=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(task_models["sentiment"]), "text-classification")
        title = str(app.screen.query_one("#tasks-title").render())
        assert "text-classification · cpu float32" in title
        await pilot.press("tab")  # leave the text area; ctrl+r works from anywhere
        await run_text(pilot, "I loved this movie")
        shown = result_text(app)
        for row in bare(task_models["sentiment"], "text-classification", "I loved this movie",
                        top_k=5):  # fmt: skip
            assert f"{row['label']}" in shown and score_text(row["score"]) in shown
        assert "█" in shown  # the bars
        app.tasks.unload()


async def test_ner_colours_spans_and_lists_entities(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path]
) -> None:
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(task_models["ner"]), "token-classification")
        text = "John Smith lives in Paris"
        await run_text(pilot, text)
        shown = result_text(app)
        entities = bare(task_models["ner"], "token-classification", text,
                        aggregation_strategy="simple")  # fmt: skip
        assert entities
        for entity in entities:
            assert f"{text[entity['start'] : entity['end']]}[{entity['entity_group']}]" in shown
            assert score_text(entity["score"]) in shown


async def test_fill_mask_shows_the_token_candidates_and_sentences(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path]
) -> None:
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(task_models["mask"]), "fill-mask")
        await run_text(pilot, "paris is the [MASK] of france")
        shown = result_text(app)
        assert "Mask token: [MASK]" in shown
        for fill in bare(task_models["mask"], "fill-mask", "paris is the [MASK] of france",
                         top_k=5):  # fmt: skip
            assert score_text(fill["score"]) in shown and fill["sequence"] in shown
        await run_text(pilot, "no mask at all")
        assert "Put the mask token [MASK] exactly once" in result_text(app)


async def test_zero_shot_refuses_no_labels_then_scores_them(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path]
) -> None:
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(task_models["nli"]), "zero-shot-classification")
        app.screen.query_one("#tasks-text").text = "I love music"  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "needs labels" in status(app), "refusal")
        assert screen(app).items == []
        app.screen.query_one("#tasks-labels").value = "music, sports"  # type: ignore[attr-defined]
        await run_text(pilot, "I love music")
        shown = result_text(app)
        expected = bare(task_models["nli"], "zero-shot-classification", "I love music",
                        candidate_labels=["music", "sports"])  # fmt: skip
        for label, score in zip(expected["labels"], expected["scores"], strict=True):
            assert label in shown and score_text(score) in shown


async def test_a_picture_to_a_text_model_is_refused(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path], task_picture: Path
) -> None:
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(task_models["sentiment"]), "text-classification")
        app.screen.query_one("#tasks-file").value = str(task_picture)  # type: ignore[attr-defined]
        app.screen.query_one("#tasks-file").focus()
        await pilot.press("enter")
        await until(pilot, lambda: "takes text; picture.png is an image" in status(app), "no")
        assert screen(app).items == []


async def test_image_classification_shows_the_picture_and_bars(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path], task_picture: Path
) -> None:
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(task_models["vit"]), "image-classification")
        app.screen.query_one("#tasks-file").value = str(task_picture)  # type: ignore[attr-defined]
        app.screen.query_one("#tasks-file").focus()
        await pilot.press("enter")
        await until(pilot, lambda: status(app).startswith("Done"), "run done", tries=6000)
        shown = result_text(app)
        for row in bare(task_models["vit"], "image-classification", str(task_picture), top_k=5):
            assert row["label"] in shown and score_text(row["score"]) in shown
        picture = app.screen.query_one("#tasks-picture")
        await until(pilot, lambda: picture.image is not None, "picture shown")  # type: ignore[attr-defined]
        assert not picture.has_class("-hidden")


async def test_batch_file_exports_what_was_shown(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path], tmp_path: Path
) -> None:
    batch = tmp_path / "reviews.txt"
    batch.write_text("I loved this movie\nbad day\n\nthe game was great\n")
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(task_models["sentiment"]), "text-classification")
        app.screen.query_one("#tasks-batch").value = True  # type: ignore[attr-defined]
        field = app.screen.query_one("#tasks-file")
        field.value = str(batch)  # type: ignore[attr-defined]
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: status(app).startswith("Done"), "batch done", tries=6000)
        table = app.screen.query_one("#tasks-items", DataTable)
        shown = [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        assert [row[1] for row in shown] == ["I loved this movie", "bad day", "the game was great"]
        await pilot.press("ctrl+s")
        export = app.screen.query_one("#tasks-export")
        assert export.value.endswith("reviews.results.jsonl")  # type: ignore[attr-defined]
        export.value = str(tmp_path / "out.csv")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: "Saved 3 result(s)" in status(app), "saved")
    with (tmp_path / "out.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["item", "input", "result", "score"]
    assert [tuple(r) for r in rows[1:]] == shown


async def test_esc_stops_a_batch_between_items(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path], tmp_path: Path
) -> None:
    batch = tmp_path / "many.txt"
    batch.write_text("".join(f"line number {i}\n" for i in range(3000)))
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(task_models["sentiment"]), "text-classification")
        app.screen.query_one("#tasks-batch").value = True  # type: ignore[attr-defined]
        field = app.screen.query_one("#tasks-file")
        field.value = str(batch)  # type: ignore[attr-defined]
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen(app).items, "first items", tries=6000)
        await pilot.press("escape")
        await until(pilot, lambda: status(app).startswith("Stopped"), "stopped", tries=6000)
        count = len(screen(app).items)
        assert 0 < count < 3000
        assert f"Stopped: {count} of 3000" in status(app)
        await pilot.pause(0.2)
        assert len(screen(app).items) == count  # nothing arrives after the stop


async def test_similarity_matrix_of_typed_lines(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path]
) -> None:
    from backends.tasks.pipeline_outputs import cosine_matrix, pool

    lines = ["the river city", "the capital of france", "i love music"]
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(task_models["sentiment"]), "feature-extraction")
        await run_text(pilot, "\n".join(lines))
        shown = result_text(app)
    vectors = [
        pool(bare(task_models["sentiment"], "feature-extraction", line)).vector for line in lines
    ]
    assert "Cosine similarity" in shown, shown
    for n, row in enumerate(cosine_matrix(vectors)):
        label = f"{n + 1} {lines[n]}"
        row_line = next(line for line in shown.splitlines() if line.strip().startswith(label))
        assert row_line.split()[-3:] == [f"{v:.3f}" for v in row]


async def test_detections_table_and_boxes_over_the_picture(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path], task_picture: Path
) -> None:
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(task_models["yolos"]), "object-detection")
        app.screen.query_one("#tasks-threshold").value = "0"  # type: ignore[attr-defined]
        field = app.screen.query_one("#tasks-file")
        field.value = str(task_picture)  # type: ignore[attr-defined]
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: status(app).startswith("Done"), "run done", tries=6000)
        shown = result_text(app)
        detections = bare(task_models["yolos"], "object-detection", str(task_picture),
                          threshold=0.0)  # fmt: skip
        assert detections
        for d in detections:
            box = d["box"]
            assert f"{box['xmin']}, {box['ymin']}, {box['xmax']}, {box['ymax']}" in shown
            assert score_text(d["score"]) in shown
        picture = app.screen.query_one("#tasks-picture")
        await until(pilot, lambda: picture.image is not None, "picture")  # type: ignore[attr-defined]
        drawn = picture.image  # type: ignore[attr-defined]
        first = detections[0]["box"]
        from backends.tasks.detection_picture import COLOURS

        assert drawn.getpixel((first["xmin"], first["ymin"])) in COLOURS  # the box's corner


async def test_leaving_and_coming_back_keeps_the_results(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path]
) -> None:
    from tui.chat.chat_screen import ChatScreen

    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(task_models["sentiment"]), "text-classification")
        await run_text(pilot, "I loved this movie")
        shown = result_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen), "back in the chat")
        await pilot.press("f12")
        await until(pilot, lambda: not isinstance(app.screen, ChatScreen), "tasks again")
        assert result_text(app) == shown
        assert app.screen.query_one("#tasks-text").text == "I loved this movie"  # type: ignore[attr-defined]
        assert "text-classification" in str(app.screen.query_one("#tasks-title").render())


async def test_a_model_without_a_known_task_asks_for_one(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path]
) -> None:
    from textual.widgets import Select

    from tests.tui.tasks.conftest import open_tasks

    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        tasks = await open_tasks(pilot)
        tasks.load_model(task_spec(task_models["mask"]))  # no task on the spec
        await pilot.pause()
        assert "Which task does mask do? Pick it in the Task list." in status(app)
        app.screen.query_one("#tasks-task", Select).value = "fill-mask"
        await until(pilot, lambda: "Loaded" in status(app), "loaded", tries=6000)
        assert app.tasks.info is not None and app.tasks.info.mask_token == "[MASK]"
