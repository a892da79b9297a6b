"""What was written is what is shown: user messages literally, answers as Markdown with raw
HTML shown as text and single line breaks kept (as chat UIs do); code blocks as before."""

from __future__ import annotations

from collections.abc import Callable

from textual.widget import Widget

from backends.base import ModelSpec
from tests.fixtures.scripted_engine import Script, scripted_spec
from tests.tui.test_chat_screen import answered, ready
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.message_list import MessageList
from tui.chat.message_view import MessageView
from tui.chat.prompt_input import PromptInput


def on_screen(app: LocalAIApp, widget: Widget) -> list[str]:
    """The rows of `widget` as drawn on the screen, trailing spaces dropped, blank rows kept."""
    strips = app.screen._compositor.render_strips()
    region = widget.region
    return [
        strips[y].crop(region.x, region.right).text.rstrip() for y in range(region.y, region.bottom)
    ]


def body_rows(app: LocalAIApp, view: MessageView) -> list[str]:
    body = view.query_one(".body")
    return [row.lstrip("▌ ").rstrip() for row in on_screen(app, body)]


USER_LINES = ['<div class="box">', "&amp; [b]not bold[/b] [red]", "# not a heading", "*not em*"]


async def test_a_user_message_is_shown_exactly_as_typed(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(app, pilot, "a")
        prompt = app.screen.query_one(PromptInput)
        prompt.focus()
        for index, line in enumerate(USER_LINES):
            if index:
                await pilot.press("ctrl+j")  # a new line in the prompt
            await pilot.press(*line)
        assert prompt.text == "\n".join(USER_LINES)
        await pilot.press("enter")
        await answered(app, pilot)
        await pilot.pause()
        user = app.screen.query_one(MessageList).views[0]
        assert user.role == "user"
        assert body_rows(app, user) == USER_LINES


ANSWER = (
    "The <span> tag wraps text &amp; more.\n"
    "Roses are red,\n"
    "violets are blue.\n"
    "\n"
    "```html\n"
    "<div>code</div>\n"
    "```\n"
    "\n"
    "Some **bold** words."
)


async def test_an_answer_keeps_html_as_text_and_its_line_breaks(
    make_app: Callable[..., LocalAIApp], scripted_engines: dict[str, Script]
) -> None:
    # Streamed in small pieces, the way answers arrive.
    scripted_engines["md"] = Script(tokens=[ANSWER[i : i + 5] for i in range(0, len(ANSWER), 5)])
    app = make_app(scripted_spec("md"))
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(app, pilot, "md")
        prompt = app.screen.query_one(PromptInput)
        prompt.focus()
        await pilot.press(*"go", "enter")
        await answered(app, pilot)
        answer = app.screen.query_one(MessageList).views[-1]
        await until(pilot, lambda: "Some bold words." in body_rows(app, answer), "rendered")
        rows = [row for row in body_rows(app, answer) if row]
        assert rows[:3] == [
            "The <span> tag wraps text & more.",
            "Roses are red,",
            "violets are blue.",
        ]
        assert any("<div>code</div>" in row for row in rows)
        assert rows[-1] == "Some bold words."
