"""The Tasks screen's summarisation, QA, captioning and timed speech recognition as a user
drives them, on tiny random models: the text on screen is the model's own output; a model
that cannot do the task hands it to the chat; the clear messages of item 4."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import DataTable, Input, Select, Static

from backends.tasks.export import score_text
from tests.fixtures.tasks import task_spec
from tests.fixtures.tiny_generative_tasks import (
    reference_answer,
    reference_caption,
    reference_generate,
)
from tests.tui.tasks.conftest import load, open_tasks, result_text, run_text, screen, status
from tests.tui.waiting import until
from tui.app import LocalAIApp

pytestmark = pytest.mark.slow


def flat(text: str) -> str:
    return " ".join(text.split())


async def run_file(pilot: object, path: Path) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    field = app.screen.query_one("#tasks-file")
    field.value = str(path)
    field.focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await until(pilot, lambda: status(app).startswith(("Done", "Stopped")), "run done",  # type: ignore[arg-type]
                tries=6000)  # fmt: skip


async def test_summary_on_screen_is_the_models_output(
    tasks_app: Callable[..., LocalAIApp], generative_task_models: dict[str, Path]
) -> None:
    app = tasks_app()
    value = "paris is the capital of france and the city of the river"
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(generative_task_models["t5"]), "summarization")
        await run_text(pilot, value)
        expected = reference_generate(generative_task_models["t5"], "summarize: " + value)
        assert expected and flat(expected) in flat(result_text(app))


async def test_translation_target_chosen_in_the_options_row(
    tasks_app: Callable[..., LocalAIApp], generative_task_models: dict[str, Path]
) -> None:
    """T5 offers en → de and en → fr: a Target list shows them, the first chosen; the
    translation on screen is the one of the prefix picked. Marian (one pair) has no list."""
    app = tasks_app()
    folder, value = generative_task_models["t5"], "the company lives in london"
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(folder), "translation")
        target = app.screen.query_one("#tasks-target", Select)
        assert target.display and not target.has_class("-hidden")
        offered = [str(prompt) for prompt, _ in target._options if str(prompt)]
        assert offered == ["en → de", "en → fr"]
        assert target.value == "translation_en_to_de"
        assert "en → de" in str(target.query_one("SelectCurrent #label", Static).render())
        await run_text(pilot, value)
        german = reference_generate(folder, "de: " + value)
        assert german and flat(german) in flat(result_text(app))

        target.value = "translation_en_to_fr"
        await pilot.pause()
        await run_text(pilot, value)
        french = reference_generate(folder, "translate English to French: " + value)
        assert french != german and flat(french) in flat(result_text(app))

        await load(pilot, task_spec(generative_task_models["marian"]), "translation")
        assert app.screen.query_one("#tasks-target").has_class("-hidden")


async def test_a_batch_file_of_summaries_shows_each_lines_own_summary(
    tasks_app: Callable[..., LocalAIApp], generative_task_models: dict[str, Path], tmp_path: Path
) -> None:
    """A batch file's lines go through generate padded, several at a time: each row of the
    table is still what the model writes for that line alone, in the file's order."""
    folder = generative_task_models["t5"]
    lines = ["paris is the capital", "the company lives in london and works in paris", "a"]
    batch = tmp_path / "texts.txt"
    batch.write_text("\n".join(lines), encoding="utf-8")
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(folder), "summarization")
        app.screen.query_one("#tasks-batch").value = True  # type: ignore[attr-defined]
        await run_file(pilot, batch)
        assert status(app).startswith("Done")
        items = screen(app).items
        assert [i.item.value for i in items] == lines
        expected = [reference_generate(folder, "summarize: " + line) for line in lines]
        assert [i.result.text for i in items] == expected  # type: ignore[union-attr]
        table = app.screen.query_one("#tasks-items", DataTable)
        shown = [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        assert all(flat(e)[:20] in flat(row) for e, row in zip(expected, shown, strict=True))


async def test_answer_its_score_and_the_span_highlighted(
    tasks_app: Callable[..., LocalAIApp], generative_task_models: dict[str, Path]
) -> None:
    app = tasks_app()
    context, question = "john smith lives in paris and works in london", "where does he live?"
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(generative_task_models["qa"]), "question-answering")
        assert not app.screen.query_one("#tasks-question").has_class("-hidden")
        app.screen.query_one("#tasks-text").text = context  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Type the question" in status(app), "refused before it runs")
        app.screen.query_one("#tasks-question", Input).value = question
        await run_text(pilot, context)
        answer, score = reference_answer(generative_task_models["qa"], question, context)
        shown = result_text(app)
        assert f"Answer: {answer}" in shown and score_text(score) in shown
        assert f"Question: {question}" in shown and context in shown
        console = Console(width=110, record=True, color_system="standard")
        console.print(app.screen.query_one("#tasks-result", Static).content)
        assert f"\x1b[1;7m{answer}\x1b[0m" in console.export_text(styles=True)


async def test_caption_beside_the_picture(
    tasks_app: Callable[..., LocalAIApp], generative_task_models: dict[str, Path],
    task_picture: Path,
) -> None:  # fmt: skip
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(generative_task_models["captioner"]), "image-to-text")
        assert app.screen.query_one("#tasks-text").has_class("-hidden")
        await run_file(pilot, task_picture)
        expected = reference_caption(generative_task_models["captioner"], task_picture)
        assert expected and flat(expected) in flat(result_text(app))
        picture = app.screen.query_one("#tasks-picture")
        await until(pilot, lambda: picture.image is not None, "picture shown")  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")  # the typed text is not a picture
        await until(pilot, lambda: "Wrong kind of input" in status(app), "refused")
        assert "takes an image; the typed text is text" in status(app)


async def test_speech_recognition_shows_timed_lines(
    tasks_app: Callable[..., LocalAIApp], generative_task_models: dict[str, Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    from tests.fixtures.tiny_tasks import write_tone_wav
    from tui.speech.segment_list import timestamp
    from tui.tasks.result_views import timed_lines

    wav = write_tone_wav(tmp_path / "tone.wav", rate=16000, seconds=1.0)
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(generative_task_models["ctc"]),
                   "automatic-speech-recognition")  # fmt: skip
        await run_file(pilot, wav)
        result = screen(app).items[0].result  # type: ignore[union-attr]
        lines = timed_lines(result.chunks)  # type: ignore[union-attr]
        assert len(lines) > 1
        shown = result_text(app).splitlines()
        for (start, end, text), row in zip(lines, shown, strict=False):
            assert row.strip() == f"{timestamp(start)} → {timestamp(end)}  {text}"
        words = " ".join(text for _, _, text in lines)
        assert words == " ".join(c[2] for c in result.chunks)  # type: ignore[union-attr]


async def test_a_model_that_cannot_summarise_hands_it_to_the_chat(
    tasks_app: Callable[..., LocalAIApp], generative_task_models: dict[str, Path]
) -> None:
    from tui.chat.prompt_input import PromptInput

    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        tasks = await open_tasks(pilot)
        tasks.load_model(task_spec(generative_task_models["qa"]), "summarization")
        await until(pilot, lambda: "ctrl+g" in status(app), "refused", tries=6000)
        assert "is not a sequence-to-sequence model" in status(app)
        app.screen.query_one("#tasks-text").text = "the river city"  # type: ignore[attr-defined]
        await pilot.press("ctrl+g")
        await until(pilot, lambda: app.screen is app.chat, "chat opened")
        box = app.chat.query_one(PromptInput)
        assert box.text.startswith("Summarise the following text") and "the river city" in box.text
        await until(pilot, lambda: any("Sent to the chat" == n.title for n in app._notifications),
                    "said so")  # fmt: skip


async def test_custom_code_and_a_too_long_text_are_said_on_screen(
    tasks_app: Callable[..., LocalAIApp], task_models: dict[str, Path], tmp_path: Path
) -> None:
    custom = tmp_path / "custom"
    shutil.copytree(task_models["sentiment"], custom)
    config = json.loads((custom / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_custom.CustomModel"}
    (custom / "config.json").write_text(json.dumps(config))
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        tasks = await open_tasks(pilot)
        tasks.load_model(task_spec(custom), "text-classification")
        await until(pilot, lambda: status(app).startswith("Custom code"), "refused", tries=6000)
        assert "trust_remote_code" in status(app) and app.tasks.info is None
        await load(pilot, task_spec(task_models["sentiment"]), "text-classification")
        await run_text(pilot, " ".join(["the river city"] * 60))
        assert "The text was cut to its first 62 tokens, all this model reads." in result_text(app)


async def test_load_model_right_as_the_screen_opens(
    tasks_app: Callable[..., LocalAIApp], generative_task_models: dict[str, Path]
) -> None:
    """The entry point for "open this model in the Tasks screen": called in the same tick
    as the screen is first opened (before it is mounted), the load waits for the mount."""
    from tui.tasks.tasks_screen import TasksScreen

    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.navigation.go("tasks")
        assert isinstance(app.screen, TasksScreen)
        app.screen.load_model(task_spec(generative_task_models["marian"]), "translation")
        await until(pilot, lambda: app.screen.is_mounted and "Loaded" in status(app), "loaded",
                    tries=6000)  # fmt: skip
        assert "Loaded marian · translation" in status(app)
        assert str(app.screen.query_one("#tasks-task").value) == "translation"  # type: ignore[attr-defined]


async def test_a_caption_asked_of_the_chat_attaches_the_picture(
    tasks_app: Callable[..., LocalAIApp], task_picture: Path
) -> None:
    """With no captioning model, ctrl+g puts the picture and a caption prompt in the chat
    (the chat's vision path runs it), and says so."""
    from textual.widgets import Select

    from tui.chat.attachment_bar import AttachmentBar
    from tui.chat.prompt_input import PromptInput

    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tasks(pilot)
        app.screen.query_one("#tasks-task", Select).value = "image-to-text"
        await pilot.press("ctrl+g")
        said = lambda: any("Name the picture" in n.message for n in app._notifications)  # noqa: E731
        await until(pilot, said, "asks for the picture")
        app.screen.query_one("#tasks-file").value = str(task_picture)  # type: ignore[attr-defined]
        await pilot.press("ctrl+g")
        await until(pilot, lambda: app.screen is app.chat, "chat opened")
        assert app.chat.query_one(PromptInput).text == "Describe this picture in one sentence."
        assert app.chat.query_one(AttachmentBar).paths == [task_picture.absolute()]
        assert any(n.title == "Sent to the chat" for n in app._notifications)


async def test_document_answer_on_screen(
    tasks_app: Callable[..., LocalAIApp], generative_task_models: dict[str, Path],
    task_picture: Path,
) -> None:  # fmt: skip
    from PIL import Image
    from transformers import pipeline

    folder = generative_task_models["donut"]
    app = tasks_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(folder), "document-question-answering")
        app.screen.query_one("#tasks-question", Input).value = "what is the total?"
        await run_file(pilot, task_picture)
        with Image.open(task_picture) as image:
            raw = pipeline(task="document-question-answering", model=str(folder))(
                image=image.convert("RGB"), question="what is the total?"
            )
        assert f"Answer: {raw[0]['answer']}" in result_text(app)
        assert "score" not in result_text(app)  # Donut gives none


class _EscAtTheFirstSummary:
    """The real in-process engine; the user presses Esc the moment the first summary of a
    batch arrives (on the UI thread, before the engine goes on), so the stop lands while
    the rest of that padded batch is already computed, every run alike."""

    def __init__(self, app: LocalAIApp) -> None:
        from backends.registry import create_task_engine

        self._engine = create_task_engine("transformers_tasks", hosted=False)
        self._app = app

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)

    def run(self, items, options, cancel=None):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN201
        from backends.tasks.protocol import ItemDone

        pressed = False
        for event in self._engine.run(items, options, cancel):
            yield event
            if isinstance(event, ItemDone) and not pressed:
                pressed = True
                self._app.call_from_thread(self._app.screen.action_stop)  # type: ignore[attr-defined]


async def test_a_stop_mid_batch_keeps_the_summaries_already_made(
    generative_task_models: dict[str, Path], tmp_path: Path
) -> None:
    """Twelve lines go through generate eight at a time. Esc while the first eight come out
    kept only the first: the other seven summaries, already made, were dropped. Now the
    eight are shown and exported, the next batch is never generated, and the status says
    how many were done."""
    from backends.models.manager import ModelManager
    from backends.settings import load_settings
    from backends.store.conversations import ConversationStore
    from backends.tasks.session import TaskSession
    from tests.tui.conftest import QuietGauge

    folder = generative_task_models["t5"]
    lines = [f"line {i} is about paris and london" for i in range(12)]
    batch = tmp_path / "texts.txt"
    batch.write_text("\n".join(lines), encoding="utf-8")
    settings = load_settings()
    app: LocalAIApp
    session = TaskSession(lambda _name: _EscAtTheFirstSummary(app), threads=1)  # type: ignore[arg-type, return-value]
    app = LocalAIApp(
        settings,
        store=ConversationStore(tmp_path / "data" / "conversations.sqlite3"),
        manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
        gauge=QuietGauge(),
        tasks=session,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await load(pilot, task_spec(folder), "summarization")
        app.screen.query_one("#tasks-batch").value = True  # type: ignore[attr-defined]
        await run_file(pilot, batch)
        assert status(app).startswith("Stopped: 8 of 12 done"), status(app)
        items = screen(app).items
        assert [i.item.value for i in items] == lines[:8]
        assert app.screen.query_one("#tasks-items", DataTable).row_count == 8
        await pilot.press("ctrl+s")
        app.screen.query_one("#tasks-export").value = str(tmp_path / "out.jsonl")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: "Saved 8 result(s)" in status(app), "saved")
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["input"] for row in rows] == lines[:8]
