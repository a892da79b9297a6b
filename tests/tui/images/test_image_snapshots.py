"""Pictures of the Images screen with a finished preview, and of the gallery."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input, Select, TextArea

from tests.fixtures.scripted_image_engine import SCRIPTED_SPEC
from tests.tui.images.test_gallery import fill_gallery
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.images.gallery_screen import GalleryCard, GalleryScreen
from tui.images.images_screen import ImagesScreen


def _finished_preview(app: LocalAIApp):  # type: ignore[no-untyped-def]
    """run_before: the scripted model loaded and one picture made from a fixed seed."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, ImagesScreen)
        screen.load_model(SCRIPTED_SPEC)
        await until(
            pilot, lambda: screen.session.engine is not None and not screen._loading, "load"
        )
        screen.query_one("#image-prompt", TextArea).text = "a lighthouse at dusk, oil painting"
        screen.query_one("#image-prompt", TextArea).cursor_blink = False
        screen.query_one("#image-seed-mode", Select).value = "fixed"
        screen.query_one("#image-scheduler", Select).value = "Euler"
        await pilot.pause()
        screen.query_one("#image-seed", Input).value = "42"
        await pilot.press("ctrl+g")
        await until(pilot, lambda: screen.last_saved is not None, "image")
        await pilot.pause()

    return run_before


def test_images_screen_with_a_finished_preview(
    snap_compare,  # type: ignore[no-untyped-def]
    make_image_app: Callable[..., LocalAIApp],
    scripted_image_engine,  # type: ignore[no-untyped-def]
) -> None:
    """Status row "Scripted SD (scripted-image)" and the device gauge (fixed numbers);
    the form with the prompt, steps 4, CFG 5, seed fixed 42, 64x64, sampler Euler; on the
    right a colour gradient drawn in half-cells (red grows to the right, green downwards),
    the caption "seed 42 · 64×64 · saved as gallery #1", a full progress bar with
    "Done in 1.0 s · 4.00 it/s", "Queue · shift+del removes" over an empty queue."""
    app = make_image_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=_finished_preview(app))


def test_images_screen_at_80x24(
    snap_compare,  # type: ignore[no-untyped-def]
    make_image_app: Callable[..., LocalAIApp],
    scripted_image_engine,  # type: ignore[no-untyped-def]
) -> None:
    """The same screen at 80x24: the footer reads "^g Generate ^o Model ^l Gallery esc
    Stop/back ^q Quit" and then "^p palette", nothing cut ("F1 Keys" is on the bar at the
    top); the form on the left, the picture on the right."""
    app = make_image_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_finished_preview(app))


def test_gallery_with_three_images(
    snap_compare,  # type: ignore[no-untyped-def]
    make_image_app: Callable[..., LocalAIApp],
    tmp_path: Path,
) -> None:
    """Search line; four-column grid with three gradient thumbnails, newest ("a lighthouse at
    dusk") first and focused; on the right its A1111 parameters (Steps: 12, Sampler: Euler,
    CFG scale: 5.5, Seed: 102, Size: 64x48, Model: Scripted SD) and "day/102.png"."""
    app = make_image_app()

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        fill_gallery(app, tmp_path / "out" / "day")
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, GalleryScreen), "gallery")
        await until(pilot, lambda: len(app.screen.query(GalleryCard)) == 3, "cards")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
