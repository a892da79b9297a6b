"""Regenerate keeps the earlier answer: ← and → in an empty prompt flip between them."""

from __future__ import annotations

from collections.abc import Callable

from backends.base import ModelSpec
from tests.fixtures.scripted_engine import Script
from tests.tui.test_chat_screen import answered, chat, ready, send, views
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.message_view import MessageView


def stats_line(app: LocalAIApp) -> str:
    return str(app.query(MessageView).last().query_one(".stats").render())


async def test_regenerate_keeps_versions_and_arrows_flip_between_them(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "a poem")
        await answered(app, pilot)
        first = views(app)[-1]
        scripted_engines["a"].tokens = ["Another", " poem"]
        await pilot.press("ctrl+r")
        await until(pilot, lambda: views(app)[-1][1] == "Another poem", "second answer")
        await answered(app, pilot)
        await until(pilot, lambda: "answer 2 of 2" in stats_line(app), "the version mark")
        await pilot.press("left")  # the prompt is empty: ← shows the earlier answer
        await until(pilot, lambda: views(app)[-1] == first, "the first answer back")
        assert "answer 1 of 2" in stats_line(app) and "TTFT" in stats_line(app)
        conversation = chat(app).conversation_id
        assert app.store.messages(conversation)[-1].content == first[1]  # type: ignore[arg-type]
    again = make_app(model_a)  # reopened: the versions are still there
    async with again.run_test(size=(120, 40)) as pilot:
        await ready(again, pilot, "a")
        await until(pilot, lambda: "answer 1 of 2" in stats_line(again), "the version mark")
        await send(again, pilot, "shorter")  # builds on the answer shown
        await answered(again, pilot)
        sent = scripted_engines["a"].calls[-1]
        assert [m.content for m in sent if m.role == "assistant"] == [first[1]]
