"""The gallery: lists images newest first, searches, reuses parameters, starts img2img, deletes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input, Select, Static, TextArea

from backends.image.png_metadata import format_parameters, save_png
from backends.image.protocol import ImageRequest
from backends.store.gallery import GalleryStore
from tests.fixtures.scripted_image_engine import SCRIPTED_SPEC, ScriptedImageEngine, gradient
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.images.gallery_screen import GalleryCard, GalleryScreen
from tui.images.images_screen import ImagesScreen


def add_image(
    gallery: GalleryStore, folder: Path, request: ImageRequest, when: float, name: str = ""
) -> None:
    text = format_parameters(request, sampler="Euler", model="Scripted SD")
    picture = gradient(request.width, request.height, request.seed)
    path = save_png(picture, folder / (name or f"{request.seed}.png"), text)
    gallery.add(
        path,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        parameters=text,
        model="Scripted SD",
        seed=request.seed,
        width=request.width,
        height=request.height,
        created_at=when,
    )


def fill_gallery(app: LocalAIApp, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, prompt in enumerate(["a red cat", "a blue dog", "a lighthouse at dusk"]):
        request = ImageRequest(
            prompt=prompt,
            negative_prompt="blurry" if n == 1 else "",
            steps=10 + n,
            cfg_scale=5.5,
            seed=100 + n,
            width=64,
            height=48,
        )
        add_image(app.images.gallery, folder, request, when=1000.0 + n)


async def _open_gallery(pilot, app: LocalAIApp) -> GalleryScreen:  # noqa: ANN001
    await pilot.press("f5")
    await pilot.press("f6")
    await until(pilot, lambda: isinstance(app.screen, GalleryScreen), "gallery")
    screen = app.screen
    await until(pilot, lambda: len(screen.query(GalleryCard)) == len(screen.images), "cards")
    return screen  # type: ignore[return-value]


async def test_lists_newest_first_and_search(
    make_image_app: Callable[..., LocalAIApp], tmp_path: Path, scripted_image_engine
) -> None:
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        fill_gallery(app, tmp_path / "out" / "2026-12-02")
        gallery = await _open_gallery(pilot, app)

        prompts = [card.image.prompt for card in gallery.query(GalleryCard)]
        assert prompts == ["a lighthouse at dusk", "a blue dog", "a red cat"]
        details = str(gallery.query_one("#gallery-details", Static).render())
        assert "Seed: 102" in details and "2026-12-02/102.png" in details

        await pilot.press("slash")
        await pilot.press(*"dog", "enter")
        await until(pilot, lambda: len(gallery.query(GalleryCard)) == 1, "search")
        assert gallery.query_one(GalleryCard).image.prompt == "a blue dog"


async def test_reuse_parameters_refills_the_form(
    make_image_app: Callable[..., LocalAIApp], tmp_path: Path, scripted_image_engine
) -> None:
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        fill_gallery(app, tmp_path / "out" / "day")
        await pilot.press("f5")
        images: ImagesScreen = app.screen  # type: ignore[assignment]
        images.load_model(SCRIPTED_SPEC)  # its samplers: Euler, DDIM
        await until(pilot, lambda: images.session.engine is not None, "model")
        await until(pilot, lambda: not images._loading, "model ready")
        gallery = await _open_gallery(pilot, app)
        await pilot.press("right")  # the second newest: "a blue dog"
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ImagesScreen), "back on Images")
        screen = app.screen

        assert screen.query_one("#image-prompt", TextArea).text == "a blue dog"
        assert screen.query_one("#image-negative", TextArea).text == "blurry"
        assert screen.query_one("#image-steps", Input).value == "11"
        assert screen.query_one("#image-cfg", Input).value == "5.5"
        assert screen.query_one("#image-seed-mode", Select).value == "fixed"
        assert screen.query_one("#image-seed", Input).value == "101"
        assert screen.query_one("#image-scheduler", Select).value == "Euler"  # the sampler too
        assert (
            screen.query_one("#image-width", Input).value,
            screen.query_one("#image-height", Input).value,
        ) == ("64", "48")
        del gallery


async def test_image_to_image_from_the_gallery(
    make_image_app: Callable[..., LocalAIApp], tmp_path: Path, scripted_image_engine
) -> None:
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        fill_gallery(app, tmp_path / "out" / "day")
        await _open_gallery(pilot, app)
        await pilot.press("i")  # the newest: "a lighthouse at dusk", seed 102
        await until(pilot, lambda: isinstance(app.screen, ImagesScreen), "back on Images")
        screen: ImagesScreen = app.screen  # type: ignore[assignment]
        assert str(screen.query_one("#image-start", Static).render()) == "102.png"
        screen.load_model(SCRIPTED_SPEC)
        await until(
            pilot, lambda: screen.session.engine is not None and screen._loading is None, "load"
        )
        screen.query_one("#image-width", Input).value = "64"
        screen.query_one("#image-height", Input).value = "48"

        await pilot.press("ctrl+g")
        await until(pilot, lambda: screen.last_saved is not None, "image")

        engine = screen.session.engine
        assert isinstance(engine, ScriptedImageEngine)
        request = engine.requests[-1]
        assert request.init_image == str(tmp_path / "out" / "day" / "102.png")
        assert request.prompt == "a lighthouse at dusk"
        assert "Denoising strength: 0.6" in screen.last_saved.parameters


async def test_delete_asks_then_removes_the_png(
    make_image_app: Callable[..., LocalAIApp], tmp_path: Path, scripted_image_engine
) -> None:
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        fill_gallery(app, tmp_path / "out" / "day")
        gallery = await _open_gallery(pilot, app)
        await pilot.press("d")
        await pilot.press("y")
        await until(pilot, lambda: len(gallery.query(GalleryCard)) == 2, "one fewer")

        assert not (tmp_path / "out" / "day" / "102.png").exists()
        assert [i.seed for i in app.images.gallery.images()] == [101, 100]


def _lines(widget) -> list[str]:  # noqa: ANN001
    """What a widget shows, line by line."""
    from textual.geometry import Region

    size = widget.size
    strips = widget.render_lines(Region(0, 0, size.width, size.height))
    return ["".join(segment.text for segment in strip).rstrip() for strip in strips]


async def test_captions_and_the_delete_question_fit_at_80_columns(
    make_image_app: Callable[..., LocalAIApp], tmp_path: Path, scripted_image_engine
) -> None:
    """Captions were cut at ~16 characters, and at 80 columns the delete question too."""
    from tui.screens.confirm import ConfirmScreen

    app = make_image_app()
    async with app.run_test(size=(80, 24)) as pilot:
        folder = tmp_path / "out" / "day"
        folder.mkdir(parents=True)
        prompt = "a lighthouse at dusk, oil painting"
        request = ImageRequest(prompt=prompt, seed=4294967295, width=64, height=64)
        name = "235959-4294967295-upscaled-from-another-tool.png"
        add_image(app.images.gallery, folder, request, 1.0, name=name)
        gallery = await _open_gallery(pilot, app)
        await pilot.pause()

        caption = gallery.query_one(GalleryCard).query_one(".card-caption", Static)
        assert " ".join(_lines(caption)).split() == prompt.split()

        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.pause()
        question = app.screen.query_one("#confirm-question", Static)
        shown = " ".join(" ".join(_lines(question)).split())
        assert shown == f"Delete {name} (the PNG and its gallery entry)?"
        assert question.region.right <= 80


async def test_escape_leaves_an_empty_gallery_from_its_search_box(
    make_image_app: Callable[..., LocalAIApp], scripted_image_engine
) -> None:
    """F6 on an empty gallery, / then Esc: Esc had no picture to go back to and did nothing."""
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        gallery = await _open_gallery(pilot, app)
        assert gallery.images == []
        await pilot.press("slash")
        assert gallery.query_one("#gallery-search", Input).has_focus
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, GalleryScreen), "gallery closed")
