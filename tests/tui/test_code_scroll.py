"""Long code lines in an answer were cut at the right edge with no way to see their end."""

from __future__ import annotations

from collections.abc import Callable

from backends.base import ModelSpec
from tests.fixtures.scripted_engine import Script
from tests.tui.test_chat_screen import answered, ready, send
from tui.app import LocalAIApp
from tui.chat.message_list import MessageList

LONG_LINE = "x = 1  # " + "word " * 40 + "TAILMARK"


def _on_screen(app: LocalAIApp) -> str:
    """The screen as drawn, row by row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_the_end_of_a_long_code_line_can_be_scrolled_into_view(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    scripted_engines["a"].tokens = ["Here:\n\n```python\n", LONG_LINE, "\n```\n"]
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "code")
        await answered(app, pilot)
        await pilot.pause()
        assert "x = 1  # word" in _on_screen(app)
        assert "TAILMARK" not in _on_screen(app)  # cut at the right edge
        app.query_one(MessageList).focus()  # Tab into the conversation
        for _ in range(12):
            await pilot.press("right")
        await pilot.pause()
        assert "TAILMARK" in _on_screen(app)
        await pilot.press("home")  # back to the start of the line (and the top)
        for _ in range(12):
            await pilot.press("left")
        await pilot.pause()
        assert "TAILMARK" not in _on_screen(app)
