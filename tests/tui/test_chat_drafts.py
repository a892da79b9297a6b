"""Each conversation keeps its own unsent draft, across switches, edits and restarts."""

from __future__ import annotations

from collections.abc import Callable

from backends.base import ModelSpec
from tests.tui.test_chat_screen import answered, chat, ready, send
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.prompt_input import PromptInput


async def test_a_draft_stays_with_its_chat_and_never_joins_the_next_prompt(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "first")
        await answered(app, pilot)
        first = chat(app).conversation_id
        prompt = app.query_one(PromptInput)
        await pilot.press(*"hello again")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert prompt.text == ""
        await send(app, pilot, "Write a poem")
        await answered(app, pilot)
        second = chat(app).conversation_id
        assert second != first
        assert app.store.get_conversation(second).title == "Write a poem"  # type: ignore[union-attr]
        assert app.store.messages(second)[0].content == "Write a poem"
        chat(app).open_conversation(first)  # type: ignore[arg-type]
        await pilot.pause()
        assert prompt.text == "hello again"


async def test_an_open_edit_does_not_follow_into_another_chat(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "in the other chat")
        await answered(app, pilot)
        other = chat(app).conversation_id
        await pilot.press("ctrl+n")
        await send(app, pilot, "old message")
        await answered(app, pilot)
        here = chat(app).conversation_id
        prompt = app.query_one(PromptInput)
        await pilot.press(*"half typed")
        await pilot.press("alt+e")
        assert prompt.editing is not None and prompt.text == "old message"
        chat(app).open_conversation(other)  # type: ignore[arg-type]
        await pilot.pause()
        assert prompt.editing is None and prompt.text == ""
        chat(app).open_conversation(here)  # type: ignore[arg-type]
        await pilot.pause()
        assert prompt.text == "half typed"  # the draft, not the message being edited


async def test_cancelling_an_edit_puts_back_what_was_typed(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "sent before")
        await answered(app, pilot)
        prompt = app.query_one(PromptInput)
        await pilot.press(*"not sent yet")
        await pilot.press("alt+e")
        assert prompt.text == "sent before"
        await pilot.press("escape")
        assert prompt.editing is None and prompt.text == "not sent yet"
        await pilot.press("alt+e", "end", *" again", "enter")  # a resend puts it back too
        await answered(app, pilot)
        assert prompt.text == "not sent yet"
        assert app.store.messages(chat(app).conversation_id)[0].content == "sent before again"  # type: ignore[arg-type]


async def test_the_open_chat_and_its_draft_come_back_after_a_restart(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "remember me")
        await answered(app, pilot)
        opened = chat(app).conversation_id
        await pilot.press(*"unsent words")
    again = make_app(model_a)
    async with again.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: chat(again).conversation_id == opened, "the chat reopened")
        assert again.query_one(PromptInput).text == "unsent words"
        assert "remember me" in [v.content for v in chat(again).query("MessageView")]  # type: ignore[attr-defined]


async def test_sampling_parameters_set_in_the_panel_come_back_after_a_restart(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    from textual.widgets import Input

    from tui.chat.params_panel import ParamsPanel

    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        for name, value in (("temperature", "0"), ("seed", "42"), ("top_k", "x")):
            app.query_one(f"#param-{name}", Input).value = value  # "x" is invalid: not kept
            await pilot.pause()
    again = make_app(model_a)
    async with again.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: again.query(ParamsPanel), "the panel")
        params = again.query_one(ParamsPanel).params()
        assert params.temperature == 0.0 and params.seed == 42 and params.top_k == 40
