"""Which terminals get a pixel probe at start (the rest draw half-cells without one)."""

from __future__ import annotations

import pytest

from tui.widgets.image_preview import probe_terminal_graphics, terminal_may_draw_pictures


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM": "xterm-kitty"}, True),
        ({"TERM_PROGRAM": "WezTerm", "TERM": "xterm-256color"}, True),
        ({"TERM": "foot"}, True),
        ({"WT_SESSION": "x", "TERM": "xterm-256color"}, True),
        ({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"}, False),
        ({"TERM": "tmux-256color"}, False),
        ({"TERM": "xterm-256color"}, False),
        ({}, False),
    ],
)
def test_terminal_may_draw_pictures(env: dict[str, str], expected: bool) -> None:
    assert terminal_may_draw_pictures(env) is expected


def test_no_probe_where_half_cells_are_all_there_is() -> None:
    assert probe_terminal_graphics("auto", {"TERM": "tmux-256color", "TMUX": "1"}) is None
    assert probe_terminal_graphics("halfcell", {"TERM": "xterm-kitty"}) is None


async def test_two_pictures_shown_at_once_leave_one_at_full_height() -> None:
    """Two show() calls close together (the Tasks screen's picture worker, then the row's)
    each emptied the preview and then each mounted a picture: two stacked at half height."""
    import asyncio

    from PIL import Image
    from textual.app import App, ComposeResult

    from tui.widgets.image_preview import ImagePreview

    class PreviewApp(App[None]):
        def compose(self) -> ComposeResult:
            yield ImagePreview(renderer="halfcell")

    first, second = Image.new("RGB", (8, 8), "red"), Image.new("RGB", (8, 8), "blue")
    app = PreviewApp()
    async with app.run_test(size=(40, 20)) as pilot:
        preview = app.query_one(ImagePreview)
        await asyncio.gather(preview.show(first), preview.show(second))
        await pilot.pause()
        shown = list(preview.query(".image"))
        assert len(shown) == 1 and preview.image is second
        assert shown[0].content_size.height == preview.content_size.height
