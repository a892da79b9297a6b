"""Starting an answer: the request goes out first, the views are mounted while it runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widget import AwaitMount
from textual.widgets import Static
from textual.widgets.markdown import MarkdownBlock

from backends.base import ModelSpec
from tests.fixtures.scripted_engine import Script, scripted_spec
from tests.tui.test_chat_screen import answered, ready, send, views
from tests.tui.waiting import until
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


async def test_the_first_token_fills_the_line_that_waited_for_it(
    make_app: Callable[..., LocalAIApp],
    held_model: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    """While the engine works on its first token, the answer shows "…" under its title;
    the first token then takes that line: it fills the paragraph mounted while waiting,
    no new block is mounted for it (a mount and its layout held the first token back)."""
    script = scripted_engines["held"]
    app = make_app(held_model)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "held")
        await send(app, pilot, "hi")
        await until(pilot, lambda: len(views(app)) == 2 and script.reached_hold.is_set(), "held")
        await pilot.pause()
        answer = app.query(MessageView).last()
        waiting = list(answer.query(MarkdownBlock))
        assert [str(block.render()) for block in waiting] == ["…"]
        assert answer.region.height == 2  # its title and "…"
        script.release.set()
        await answered(app, pilot)
        await pilot.pause()
        assert list(answer.query(MarkdownBlock)) == waiting
        assert str(waiting[0].render()) == "Hello."
        assert answer.region.height == 3  # title, text, stats


async def test_an_answer_stopped_before_its_first_token_leaves_no_ellipsis(
    make_app: Callable[..., LocalAIApp],
    held_model: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    script = scripted_engines["held"]
    app = make_app(held_model)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "held")
        await send(app, pilot, "hi")
        await until(pilot, lambda: len(views(app)) == 2 and script.reached_hold.is_set(), "held")
        await pilot.press("escape")
        await answered(app, pilot)
        await pilot.pause()
        answer = app.query(MessageView).last()
        assert answer.content == ""
        assert answer.region.height == 2  # its title and "stopped", nothing between
        assert not answer.query(MarkdownBlock)
        assert "stopped" in str(answer.query_one(".stats", Static).render())
