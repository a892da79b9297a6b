"""Reopening a long conversation mounts its end only; earlier messages come as the user
scrolls up (or all at once with Home), and the view stays on what they were reading."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backends.base import ModelSpec
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.message_list import MessageList


def long_conversation(app: LocalAIApp, pairs: int) -> int:
    store = app.store
    conversation = store.create_conversation("long")
    for n in range(pairs):
        store.add_message(conversation, "user", f"question {n}")
        store.add_message(conversation, "assistant", f"answer {n}\n\nwith a second paragraph")
    return conversation


async def test_a_long_conversation_opens_at_its_end_and_scrolling_up_brings_the_rest(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    conversation = long_conversation(app, 100)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        messages = app.chat.query_one(MessageList)
        app.chat.open_conversation(conversation)  # type: ignore[attr-defined]
        await until(pilot, lambda: messages.views, "the messages")
        await pilot.pause()
        views = messages.views
        assert views[-1].content.startswith("answer 99")
        assert messages.region.contains_region(views[-1].region)  # the last answer shows
        assert 4 <= len(views) < 40
        hint = messages.query_one(".earlier-hint")
        assert f"↑ {200 - len(views)} earlier messages" in str(hint.render())

        # Scrolling to the top of what is shown mounts the batch before it, and the message
        # the user was reading stays where it was on screen.
        messages.focus()
        first = views[0]
        while len(messages.views) == len(views):
            await pilot.press("pageup")
            await pilot.pause()
        await pilot.pause()
        assert len(messages.views) > len(views)
        assert first.region.y >= messages.region.y  # still on screen, not pushed below

        # Home shows everything, from the first question.
        await pilot.press("home")
        await until(pilot, lambda: len(messages.views) == 200, "every message")
        await pilot.pause()
        assert messages.views[0].content == "question 0"
        assert not messages.query(".earlier-hint")
        assert messages.region.contains_region(messages.views[0].region)


async def test_a_long_live_conversation_unmounts_its_oldest_messages_and_brings_them_back(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory: each answer is a tree of widgets, so only the newest stay mounted."""
    import tui.chat.message_list as message_list
    from tui.chat.prompt_input import PromptInput

    monkeypatch.setattr(message_list, "MOUNTED_MAX", 6)
    monkeypatch.setattr(message_list, "TRIM_BATCH", 2)
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.engine is not None, "model loaded")
        messages = app.chat.query_one(MessageList)
        for n in range(8):
            prompt = app.chat.query_one(PromptInput)
            prompt.text = f"question {n}"
            await pilot.press("enter")
            await until(pilot, lambda: not app.chat.generating, f"answer {n}")  # type: ignore[attr-defined]
            await pilot.pause()
        assert len(messages.views) <= 6 + 2
        assert messages.views[-1].content == "Hello from **A**."
        hint = str(messages.query_one(".earlier-hint").render())
        assert f"↑ {16 - len(messages.views)} earlier messages" in hint

        messages.focus()
        await pilot.press("home")
        await until(pilot, lambda: len(messages.views) == 16, "every message again")
        first_answer = messages.views[1]
        assert [messages.views[0].content, first_answer.content] == [
            "question 0",
            "Hello from **A**.",
        ]
        assert "tokens" in str(first_answer.query_one(".stats").render())  # its stats came back
