"""ctrl+c in the chat: Ollama users press it to stop an answer; it did nothing at all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from backends.base import ModelSpec
from tests.fixtures.scripted_engine import Script
from tests.tui.test_chat_screen import answered, chat, notifications, ready, send, views
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.prompt_input import PromptInput


async def test_ctrl_c_stops_the_answer_and_says_how_to_quit(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    script = scripted_engines["a"]
    script.hold_before = 2
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("ctrl+c")  # nothing streams: it says what quits, and stays
        assert "ctrl+q quits the app" in notifications(app)[-1]
        await send(app, pilot, "go")
        assert await asyncio.to_thread(script.reached_hold.wait, 5)
        await until(pilot, lambda: views(app)[-1][1] == "Hello from", "partial text shown")
        await pilot.press("ctrl+c")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Hello from")  # kept, as Esc keeps it
        assert any("Stopped the answer" in n and "ctrl+q" in n for n in notifications(app))
        assert app.is_running
        prompt = app.query_one(PromptInput)
        prompt.text = "copy me"
        prompt.select_all()
        await pilot.press("ctrl+c")  # a selection in the prompt is still copied
        assert app.clipboard == "copy me"
        assert chat(app).conversation_id is not None


async def test_a_base_model_is_marked_in_the_header_while_it_is_loaded(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    model_b: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    """The "no chat template" notice was a 4 s toast, gone before the odd answers began."""
    scripted_engines["b"].chat_template = False
    app = make_app(model_b)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "b")
        assert "base model: no chat template" in chat(app).status.text
        chat(app).load_model(model_a)
        await ready(app, pilot, "a")
        assert "base model" not in chat(app).status.text


async def test_a_long_paste_is_folded_with_a_line_count_and_space_shows_it_all(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    from textual.widgets import Static

    from tui.chat.message_view import MessageView

    paste = "\n".join(f"line {n}: " + "x" * 30 for n in range(500))  # ~20 KB
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        prompt = app.query_one(PromptInput)
        prompt.text = paste
        await pilot.press("enter")
        await answered(app, pilot)
        view = next(v for v in app.query(MessageView) if v.role == "user")
        body = str(view.query_one(".body", Static).render())
        assert body.startswith("line 0:") and "line 11:" in body and "line 12:" not in body
        assert "488 more lines" in body and "Space shows all" in body
        assert app.store.messages(chat(app).conversation_id)[0].content == paste  # type: ignore[arg-type]
        view.focus()
        await pilot.press("space")
        assert "line 499:" in str(view.query_one(".body", Static).render())
        await pilot.press("space")
        assert "line 499:" not in str(view.query_one(".body", Static).render())
