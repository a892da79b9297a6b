"""Starting an answer: the request goes out first, the views are mounted while it runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widget import AwaitMount

from backends.base import ModelSpec
from tests.fixtures.scripted_engine import Script, scripted_spec
from tests.tui.test_chat_screen import answered, ready, send, views
from tui.app import LocalAIApp
from tui.chat.message_list import MessageList
from tui.chat.message_view import MessageView


@pytest.fixture
def held_model(scripted_engines: dict[str, Script]) -> ModelSpec:
    """Its engine waits before the first token until the test releases it."""
    scripted_engines["held"] = Script(tokens=["Hel", "lo", "."], hold_before=0)
    return scripted_spec("held", "Held")


async def test_the_engine_is_asked_before_the_answer_view_is_mounted(
    make_app: Callable[..., LocalAIApp],
    held_model: ModelSpec,
    scripted_engines: dict[str, Script],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mounting the views (tens of ms) overlaps the server's time to first token."""
    script = scripted_engines["held"]
    engine_asked_first: list[bool] = []
    original = MessageList.add

    def add(self: MessageList, view: MessageView) -> AwaitMount:
        if view.role == "assistant":
            # Blocks the UI: only a request already on its way can reach the engine now.
            engine_asked_first.append(script.reached_hold.wait(5))
            script.release.set()
        return original(self, view)

    monkeypatch.setattr(MessageList, "add", add)
    app = make_app(held_model)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "held")
        await send(app, pilot, "hi")
        await answered(app, pilot)
        assert views(app) == [("user", "hi"), ("assistant", "Hello.")]
    assert engine_asked_first == [True]


async def test_a_regenerated_answer_keeps_its_first_text(
    make_app: Callable[..., LocalAIApp],
    held_model: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    """ctrl+r runs outside the screen's message queue: the first text must still wait for
    the view it goes into, not reach the screen before it is mounted."""
    script = scripted_engines["held"]
    script.release.set()
    app = make_app(held_model)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "held")
        await send(app, pilot, "hi")
        await answered(app, pilot)
        await pilot.press("ctrl+r")
        await answered(app, pilot)
        assert views(app) == [("user", "hi"), ("assistant", "Hello.")]
        answer = app.query(MessageView).last()
        await pilot.pause()
        assert answer.query_one("Markdown").source == "Hello."  # type: ignore[attr-defined]
