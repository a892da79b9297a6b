"""A prompt sent while another model loads waits for that model (the old one never answers
it), the status keeps saying what is happening, and Esc cancels the load, keeping the text."""

from __future__ import annotations

from collections.abc import Callable

from backends.base import ModelSpec
from tests.fixtures.scripted_engine import Script
from tests.tui.test_chat_screen import answered, chat, notifications, ready, send, views
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.prompt_input import PromptInput


async def test_a_prompt_sent_during_a_load_is_answered_by_the_new_model(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    model_b: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    loading_b = scripted_engines["b"]
    loading_b.hold_load = True
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        chat(app).load_model(model_b)
        await until(pilot, lambda: "Loading weights" in chat(app).status.text, "B loading")
        await send(app, pilot, "hello")
        await until(pilot, lambda: any("still loading" in n for n in notifications(app)), "told")
        assert "Model B" in notifications(app)[-1]
        assert views(app) == [] and scripted_engines["a"].calls == []
        assert "Loading weights" in chat(app).status.text  # not "generating", not "ready"
        assert app.query_one(PromptInput).text == "hello"
        loading_b.release.set()
        await until(pilot, lambda: len(views(app)) == 2, "sent to B once loaded")
        await answered(app, pilot)
        assert views(app) == [("user", "hello"), ("assistant", "Hi from B.")]
        assert scripted_engines["a"].calls == []
        assert app.query_one(PromptInput).text == ""
        assert chat(app).status.text.endswith("ready")


async def test_escape_cancels_the_load_and_keeps_the_waiting_prompt(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    model_b: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    scripted_engines["b"].hold_load = True
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        chat(app).load_model(model_b)
        await until(pilot, lambda: "Loading weights" in chat(app).status.text, "B loading")
        await send(app, pilot, "hello")
        await until(pilot, lambda: any("still loading" in n for n in notifications(app)), "told")
        await pilot.press("escape")
        await until(pilot, lambda: any("cancelled" in n for n in notifications(app)), "cancel")
        assert "not sent" in notifications(app)[-1]
        await until(pilot, lambda: chat(app).status.text.endswith("ready"), "A ready again")
        assert app.manager.spec.key == "a"  # type: ignore[union-attr]
        assert views(app) == [] and scripted_engines["a"].calls == []
        assert app.query_one(PromptInput).text == "hello"
        await pilot.press("enter")  # now A answers, because the user asked again
        await answered(app, pilot)
        assert views(app) == [("user", "hello"), ("assistant", "Hello from **A**.")]


async def test_regenerate_during_a_load_waits_for_nothing_and_says_why(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    model_b: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "hi")
        await answered(app, pilot)
        scripted_engines["b"].hold_load = True
        chat(app).load_model(model_b)
        await until(pilot, lambda: "Loading weights" in chat(app).status.text, "B loading")
        calls = len(scripted_engines["a"].calls)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: any("still loading" in n for n in notifications(app)), "told")
        assert len(scripted_engines["a"].calls) == calls and not chat(app).generating
        scripted_engines["b"].release.set()
        await ready(app, pilot, "b")
