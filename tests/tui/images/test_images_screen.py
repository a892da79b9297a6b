"""The Images screen with the tiny pipeline: what a user sees while and after making images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static, TextArea

from backends.base import ModelSpec
from backends.image.png_metadata import read_parameters, request_from_parameters
from tests.fixtures.slow_diffusers import slow_diffusers_spec, slow_prompt
from tests.tui.waiting import until as _until
from tui.app import LocalAIApp
from tui.images.images_screen import ImagesScreen
from tui.widgets.image_preview import ImagePreview

pytestmark = pytest.mark.slow
__all__ = ["slow_diffusers_spec"]


async def until(pilot, condition, what: str) -> None:  # noqa: ANN001
    """Real (hosted) model loads and runs: on a busy 2-core box they take tens of seconds."""
    await _until(pilot, condition, what, tries=30000)


async def _ready(pilot, app: LocalAIApp, spec: ModelSpec) -> ImagesScreen:
    await pilot.press("f5")
    screen = app.screen
    assert isinstance(screen, ImagesScreen)
    screen.load_model(spec)
    await until(
        pilot, lambda: screen.session.engine is not None and screen._loading is None, "model"
    )
    return screen


async def _fill(pilot, screen: ImagesScreen, prompt: str, steps: int = 3, seed: str = "") -> None:
    screen.query_one("#image-prompt", TextArea).text = prompt
    screen.query_one("#image-steps", Input).value = str(steps)
    screen.query_one("#image-width", Input).value = "64"
    screen.query_one("#image-height", Input).value = "64"
    if seed:
        from textual.widgets import Select

        screen.query_one("#image-seed-mode", Select).value = "fixed"
        await pilot.pause()
        screen.query_one("#image-seed", Input).value = seed


async def test_generate_shows_the_picture_and_saves_a_png(
    make_image_app: Callable[..., LocalAIApp], tiny_sd_spec: ModelSpec, tmp_path: Path
) -> None:
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, app, tiny_sd_spec)
        assert "tiny-sd" in str(screen.query_one("#image-model", Static).render())
        await _fill(pilot, screen, "a red cat", steps=4, seed="42")

        await pilot.press("ctrl+g")
        await until(pilot, lambda: screen.last_saved is not None, "the image")
        await until(pilot, lambda: screen.query_one(ImagePreview).image is not None, "preview")

        label = str(screen.query_one("#image-progress-label", Static).render())
        assert label.startswith("Done in")
        assert "seed 42 · 64×64 · saved as gallery #1" in str(
            screen.query_one("#image-caption", Static).render()
        )
        pngs = list((tmp_path / "data" / "images").rglob("*.png"))
        assert len(pngs) == 1
        back = request_from_parameters(read_parameters(pngs[0]) or "")
        assert (back.prompt, back.steps, back.seed, back.width) == ("a red cat", 4, 42, 64)
        assert [i.prompt for i in app.images.gallery.images()] == ["a red cat"]


async def test_size_not_a_multiple_is_refused_with_the_rule(
    make_image_app: Callable[..., LocalAIApp], tiny_sd_spec: ModelSpec
) -> None:
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, app, tiny_sd_spec)
        await _fill(pilot, screen, "a red cat")
        screen.query_one("#image-width", Input).value = "70"

        await pilot.press("ctrl+g")

        error = str(screen.query_one("#image-problem", Static).render())
        assert "Width 70 is not a multiple of 8" in error and "use 64 or 72" in error
        assert screen.queue.pending() == []


async def test_queue_of_three_with_the_middle_removed(
    make_image_app: Callable[..., LocalAIApp], scripted_image_engine
) -> None:
    """The UI side of the queue (tests/backends/image/test_jobs.py runs three jobs through the
    real pipeline): the scripted engine holds the first job at its first step while the other
    two wait, so the list is known when Delete is pressed."""
    import threading

    from tests.fixtures.scripted_image_engine import SCRIPTED_SPEC

    scripted_image_engine.gate = threading.Semaphore(0)
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, app, SCRIPTED_SPEC)
        for prompt in ("first", "second", "third"):
            await _fill(pilot, screen, prompt, steps=3)
            await pilot.press("ctrl+g")
        table = screen.query_one("#image-queue", DataTable)
        assert [j.request.prompt for j in screen.queue.pending()] == ["first", "second", "third"]
        second = screen.queue.pending()[1]
        table.focus()
        table.move_cursor(row=table.get_row_index(str(second.id)))

        await pilot.press("delete")
        assert [j.request.prompt for j in screen.queue.pending()] == ["first", "third"]
        assert table.row_count == 2
        scripted_image_engine.gate.release(100)
        await until(pilot, lambda: not screen.queue.pending(), "queue drained")
        await until(pilot, lambda: len(app.images.gallery.images()) == 2, "two saved")
        await until(pilot, lambda: table.row_count == 0, "queue list empty")

        assert [i.prompt for i in app.images.gallery.images()] == ["third", "first"]


async def test_cancel_stops_the_running_image_and_saves_nothing(
    make_image_app: Callable[..., LocalAIApp], tiny_sd_spec: ModelSpec, tmp_path: Path
) -> None:
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, app, tiny_sd_spec)
        await _fill(pilot, screen, "never finished", steps=400)

        await pilot.press("ctrl+g")
        await until(
            pilot,
            lambda: screen.queue.running is not None and screen.queue.running.last_step,
            "a step",
        )
        await pilot.press("escape")
        await until(pilot, lambda: not screen.queue.pending(), "job ended")
        await until(
            pilot,
            lambda: "Cancelled" in str(screen.query_one("#image-progress-label", Static).render()),
            "cancel shown",
        )

        assert not list((tmp_path / "data" / "images").rglob("*.png"))
        assert app.images.gallery.images() == []


async def test_esc_ends_a_job_stuck_in_a_long_step_at_once_and_the_next_job_makes_an_image(
    make_image_app: Callable[..., LocalAIApp], slow_diffusers_spec: ModelSpec, tmp_path: Path
) -> None:
    """A step that does not end (a long native step): Esc shows the job cancelled while
    the host is still being killed and the model loaded again; the next job waits for
    that reload and makes its picture."""
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, app, slow_diffusers_spec)
        hold = Path(f"{slow_diffusers_spec.path}.hold")
        hold.write_text("")  # the reload after the kill waits until the test lets it go
        await _fill(pilot, screen, slow_prompt(3600, "never finished"), steps=3)

        await pilot.press("ctrl+g")
        await until(
            pilot,
            lambda: screen.queue.running is not None and screen.queue.running.last_step,
            "step 1",
        )
        await pilot.press("escape")
        await until(
            pilot,
            lambda: "Cancelled" in str(screen.query_one("#image-progress-label", Static).render()),
            "cancel shown",
        )

        engine = screen.session.engine
        assert engine is not None and engine._settling is not None  # type: ignore[attr-defined]
        assert not engine._settling.is_set()  # type: ignore[attr-defined]
        assert screen.queue.running is None and not screen.queue.pending()
        assert not list((tmp_path / "data" / "images").rglob("*.png"))

        hold.unlink()
        await _fill(pilot, screen, "a red cat", steps=2)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: screen.last_saved is not None, "the next image")
        assert [i.prompt for i in app.images.gallery.images()] == ["a red cat"]


async def test_a_broken_model_gives_a_clear_message_and_the_screen_stays_usable(
    make_image_app: Callable[..., LocalAIApp],
    tiny_sd_dir: Path,
    tiny_sd_spec: ModelSpec,
    tmp_path: Path,
) -> None:
    import shutil

    broken = tmp_path / "broken-sd"
    shutil.copytree(tiny_sd_dir, broken)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"not weights")
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, ImagesScreen)
        screen.load_model(ModelSpec("b", "broken-sd", "diffusers", str(broken)))
        await until(pilot, lambda: screen._loading is None, "the load to end")

        status = str(screen.query_one("#image-model", Static).render())
        assert status == "broken-sd did not load · ctrl+o picks another"
        toasts = [n.message for n in app._notifications]
        assert any("broken-sd" in t and "download the model again" in t.lower() for t in toasts)

        screen.load_model(tiny_sd_spec)  # and the next model loads and draws
        await until(pilot, lambda: screen.session.engine is not None and not screen._loading, "ok")
        await _fill(pilot, screen, "a red cat", steps=2)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: screen.last_saved is not None, "the image")
        from textual_image.widget import HalfcellImage

        assert screen.query_one(ImagePreview).query(HalfcellImage)  # drawn in half-cells


async def test_the_model_line_names_the_model_once_while_it_loads(
    make_image_app: Callable[..., LocalAIApp], tiny_sd_spec: ModelSpec
) -> None:
    """It read "tiny-sd: Loading tiny-sd…" (the screen's prefix and the engine's own words)."""
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, ImagesScreen)
        line = screen.query_one("#image-model", Static)
        shown: list[str] = []
        update = line.update

        def record(content: object = "", **kwargs: object) -> None:
            shown.append(str(content))
            update(content, **kwargs)  # type: ignore[arg-type]

        line.update = record  # type: ignore[method-assign]
        screen.load_model(tiny_sd_spec)
        await until(
            pilot, lambda: screen.session.engine is not None and screen._loading is None, "model"
        )
    loading = [text for text in shown if "oading" in text]
    assert "Loading tiny-sd…" in loading
    assert all(text.count("tiny-sd") == 1 for text in shown), shown
