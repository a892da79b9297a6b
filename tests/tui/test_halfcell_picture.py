"""Our half-cell picture: the colours textual-image would draw, and a new picture shown
in place (same shape: only this widget repaints; another shape: the layout follows)."""

from __future__ import annotations

from PIL import Image
from rich.color import Color
from textual.app import App, ComposeResult

from tui.widgets.halfcell_picture import HalfcellPicture
from tui.widgets.image_preview import ImagePreview


class Preview(App[None]):
    def compose(self) -> ComposeResult:
        yield ImagePreview("empty", renderer="halfcell")


def _cells(widget: HalfcellPicture) -> list[tuple[Color | None, Color | None]]:
    strip = widget.render_line(0)
    return [(s.style.color, s.style.bgcolor) for s in strip if s.style is not None]


def _gradient(width: int, height: int) -> Image.Image:
    picture = Image.new("RGB", (width, height))
    picture.putdata([(x * 4 % 256, y * 4 % 256, (x + y) % 256) for y in range(height)
                     for x in range(width)])  # fmt: skip
    return picture


async def test_cells_have_the_picture_colours_as_rich_makes_them() -> None:
    app = Preview()
    async with app.run_test(size=(60, 20)) as pilot:
        preview = app.query_one(ImagePreview)
        await preview.show(_gradient(64, 64))
        await pilot.pause()
        widget = app.query_one(HalfcellPicture)
        width = widget.content_size.width
        scaled = _gradient(64, 64).resize((width, widget.content_size.height * 2))

        cells = _cells(widget)

        expected = [
            (Color.from_rgb(*scaled.getpixel((x, 0))), Color.from_rgb(*scaled.getpixel((x, 1))))
            for x in range(width)
        ]
        assert len(cells) == width
        # Same names, types and triplets as Color.from_rgb (what textual-image draws).
        assert [(a.name, b.name) for a, b in cells] == [(a.name, b.name) for a, b in expected]
        assert cells == expected


async def test_a_new_picture_shows_in_place() -> None:
    app = Preview()
    async with app.run_test(size=(60, 20)) as pilot:
        preview = app.query_one(ImagePreview)
        await preview.show(Image.new("RGB", (64, 64), (200, 0, 0)))
        await pilot.pause()
        widget = app.query_one(HalfcellPicture)
        square = widget.size

        await preview.show(Image.new("RGB", (64, 64), (0, 0, 200)))  # same shape
        await pilot.pause()

        assert app.query_one(HalfcellPicture) is widget and widget.size == square
        assert set(_cells(widget)) == {(Color.from_rgb(0, 0, 200), Color.from_rgb(0, 0, 200))}

        await preview.show(Image.new("RGB", (64, 16), (0, 200, 0)))  # wider: new layout
        await pilot.pause()

        assert widget.size.width > square.width
        assert set(_cells(widget)) == {(Color.from_rgb(0, 200, 0), Color.from_rgb(0, 200, 0))}
