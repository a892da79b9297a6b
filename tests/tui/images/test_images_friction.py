"""What a new user hit on the Images screen (issue 12, A4 and B), with the scripted engine:
the queue cursor, problems shown where the eye is, the LoRA path checked when entered,
texts that went stale, the model remembered across restarts, the gauge's model label."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from textual.widgets import DataTable, Input, Static, TextArea

from tests.fixtures.scripted_image_engine import SCRIPTED_SPEC
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.images.images_screen import ImagesScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets.image_preview import ImagePreview


async def _ready(pilot, app: LocalAIApp) -> ImagesScreen:  # noqa: ANN001
    await pilot.press("f5")
    screen = app.screen
    assert isinstance(screen, ImagesScreen)
    screen.load_model(SCRIPTED_SPEC)
    await until(pilot, lambda: screen.session.engine is not None and not screen._loading, "load")
    await pilot.pause()
    return screen


def _queue(screen: ImagesScreen, *prompts: str, steps: int = 3) -> None:
    for prompt in prompts:
        screen.query_one("#image-prompt", TextArea).text = prompt
        screen.query_one("#image-steps", Input).value = str(steps)
        screen.action_generate()


def _text(screen: ImagesScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_the_queue_cursor_stays_on_its_job_and_del_never_stops_the_running_one(
    make_image_app: Callable[..., LocalAIApp], scripted_image_engine
) -> None:
    """The table is rebuilt when a job starts or ends; the cursor used to jump to the running
    row, so Del meant for a queued job cancelled the running one."""
    scripted_image_engine.gate = threading.Semaphore(0)
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, app)
        _queue(screen, "first", "second", "third")
        await until(pilot, lambda: screen.queue.running is not None, "first running")
        table = screen.query_one("#image-queue", DataTable)
        table.focus()
        third = screen.queue.pending()[2]
        table.move_cursor(row=table.get_row_index(str(third.id)))

        scripted_image_engine.gate.release(3)  # the first job ends, the second starts
        await until(pilot, lambda: len(app.images.gallery.images()) == 1, "first saved")
        await until(pilot, lambda: table.row_count == 2, "list rebuilt")
        assert screen.query_one("#image-jobs").selected_job_id() == third.id

        await pilot.press("delete")
        assert [j.request.prompt for j in screen.queue.pending()] == ["second"]
        assert screen.queue.running is not None  # the running job goes on

        await pilot.press("delete")  # now on the running row: asked first
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await pilot.pause()
        assert screen.queue.running is not None and not screen.queue.running.cancel.is_set()
        scripted_image_engine.gate.release(100)
        await until(pilot, lambda: len(app.images.gallery.images()) == 2, "second saved")


async def test_a_form_problem_shows_at_the_top_at_80x24_and_the_cursor_goes_to_the_field(
    make_image_app: Callable[..., LocalAIApp], scripted_image_engine
) -> None:
    """At 80x24 the error line was below the fold: ctrl+g seemed to do nothing."""
    app = make_image_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _ready(pilot, app)
        screen.query_one("#image-prompt", TextArea).text = "a red cat"
        screen.query_one("#image-width", Input).value = "70"

        await pilot.press("ctrl+g")
        await pilot.pause()

        problem = screen.query_one("#image-problem", Static)
        assert "Width 70 is not a multiple of 8" in _text(screen, "#image-problem")
        assert problem.region.height >= 1 and problem.region.bottom <= 24  # on screen
        assert screen.focused is screen.query_one("#image-width")
        assert any("Width 70" in n.message for n in app._notifications)
        assert screen.queue.pending() == []

        screen.query_one("#image-width", Input).value = "64"
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert not problem.display  # answered: the line goes away


async def test_a_lora_path_is_checked_when_entered_not_when_the_job_runs(
    make_image_app: Callable[..., LocalAIApp], scripted_image_engine, tmp_path: Path
) -> None:
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, app)
        lora = screen.query_one("#image-lora", Input)
        lora.focus()
        lora.value = str(tmp_path / "missing.safetensors")

        await pilot.press("enter")
        await pilot.pause()

        assert "No LoRA file at" in _text(screen, "#image-lora-note")
        titles = [n.title for n in app._notifications]
        assert "LoRA not found" in titles and "Model not found" not in titles

        real = tmp_path / "style.safetensors"
        real.write_bytes(b"lora")
        lora.value = str(real)
        await pilot.press("enter")
        await pilot.pause()
        assert _text(screen, "#image-lora-note") == ""


async def test_no_stale_texts_between_jobs_and_after_a_model_loads(
    make_image_app: Callable[..., LocalAIApp], scripted_image_engine
) -> None:
    scripted_image_engine.gate = threading.Semaphore(0)
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, ImagesScreen)
        screen.query_one("#image-prompt", TextArea).text = "a red cat"
        await pilot.press("ctrl+g")
        assert "Pick an image model first" in _text(screen, "#image-problem")

        screen.load_model(SCRIPTED_SPEC)
        await until(pilot, lambda: screen.session.engine is not None, "load")
        await pilot.pause()
        assert not screen.query_one("#image-problem").display  # answered by the load

        _queue(screen, "first", steps=2)
        await until(pilot, lambda: screen.queue.running is not None, "running")
        await pilot.pause()
        hint = str(screen.query_one(ImagePreview).query_one(".image-hint", Static).render())
        assert "Write a prompt" not in hint and "Making image #1" in hint
        scripted_image_engine.gate.release(2)
        await until(pilot, lambda: screen.last_saved is not None, "first saved")
        assert _text(screen, "#image-progress-label").startswith("Done in")

        _queue(screen, "second", steps=2)  # held before its first step
        await until(pilot, lambda: "#2" in _text(screen, "#image-progress-label"), "started")
        assert _text(screen, "#image-progress-label") == "Starting image #2…"
        scripted_image_engine.gate.release(100)
        await until(pilot, lambda: not screen.queue.pending(), "done")


async def test_the_image_model_is_remembered_and_loads_when_the_user_generates(
    make_image_app: Callable[..., LocalAIApp], scripted_image_engine
) -> None:
    first = make_image_app()
    async with first.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, first)

    app = make_image_app()  # a restart: same data folder
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, ImagesScreen)
        await pilot.pause()
        assert screen.session.engine is None  # nothing loaded at start
        assert "last used: Scripted SD" in _text(screen, "#image-model")

        _queue(screen, "a red cat", steps=2)
        await until(pilot, lambda: screen.last_saved is not None, "the image")

        assert _text(screen, "#image-model") == "Scripted SD (scripted-image)"
        assert not screen.query_one("#image-problem").display


async def test_the_gauge_names_the_image_model_it_holds(
    make_image_app: Callable[..., LocalAIApp], scripted_image_engine
) -> None:
    from tui.widgets.device_gauge import DeviceGauge

    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, app)
        await until(pilot, lambda: screen.query(DeviceGauge), "gauge")
        await pilot.pause()

        shown = str(screen.query_one(DeviceGauge).render())
        assert "Scripted SD" in shown and "no model loaded" not in shown


async def test_shift_del_removes_the_highlighted_queued_job_while_typing_in_the_form(
    make_image_app: Callable[..., LocalAIApp], scripted_image_engine
) -> None:
    """Del on a queued image worked only when the queue had focus (in the prompt it deletes
    text, as it should)."""
    scripted_image_engine.gate = threading.Semaphore(0)
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, app)
        _queue(screen, "first", "second")
        await until(pilot, lambda: screen.queue.running is not None, "first running")
        table = screen.query_one("#image-queue", DataTable)
        second = screen.queue.pending()[1]
        table.move_cursor(row=table.get_row_index(str(second.id)))
        prompt = screen.query_one("#image-prompt", TextArea)
        prompt.focus()
        prompt.text = "a third idea"

        await pilot.press("shift+delete")
        await pilot.pause()

        assert [j.request.prompt for j in screen.queue.pending()] == ["first"]
        assert prompt.text == "a third idea"
        scripted_image_engine.gate.release(100)
        await until(pilot, lambda: not screen.queue.pending(), "done")


async def test_the_key_hints_fit_at_80x24(make_image_app: Callable[..., LocalAIApp]) -> None:
    """At 80 columns the footer was cut: "^l Ga" ran under the palette key, and Quit and
    Keys were off screen. Every key the footer shows now ends before the palette key."""
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    app = make_image_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ImagesScreen), "images")
        await pilot.pause()
        keys = list(app.screen.query_one(Footer).query(FooterKey))
        palette = next(key for key in keys if key.description == "palette")
        shown = [key.description for key in keys if key is not palette]
        assert shown[:3] == ["Generate", "Model", "Gallery"]  # the most used first
        cut = [
            key.description
            for key in keys
            if key is not palette and key.region.right > palette.region.x
        ]
        assert not cut, f"cut or hidden at 80 columns: {cut}"
        # shift+del left the footer for a line over the queue it acts on
        assert "shift+del" in _text(app.screen, "#image-queue-hint")
