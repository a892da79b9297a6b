"""Browsing while an answer streams: the conversation list and the model picker were refused
("Stop the answer first"); now the answer keeps streaming into its own chat, stored as it
streams, and coming back to that chat shows it, still streaming or done."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from backends.base import ModelSpec
from tests.fixtures.scripted_engine import Script
from tests.tui.test_chat_screen import answered, chat, notifications, ready, send, views
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.chat_screen import ChatScreen
from tui.chat.message_view import MessageView


async def _open_from_list(app: LocalAIApp, pilot, title: str) -> None:  # type: ignore[no-untyped-def]
    """ctrl+l, then Enter on the row titled `title` (moved to with the arrows)."""
    from tui.chat.conversations_screen import ConversationsScreen

    await pilot.press("ctrl+l")
    await until(pilot, lambda: isinstance(app.screen, ConversationsScreen), "the chat list")
    await pilot.pause()
    table = app.screen.table  # type: ignore[attr-defined]
    index = next(
        i for i in range(table.row_count) if title in " ".join(map(str, table.get_row_at(i)))
    )
    table.focus()
    table.move_cursor(row=index)
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ChatScreen), "back in the chat")
    await pilot.pause()


async def test_the_list_and_picker_open_while_an_answer_streams_into_its_own_chat(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    model_b: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    from tui.screens.model_picker import ModelPickerScreen

    script = scripted_engines["a"]
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "older")
        await answered(app, pilot)
        older = chat(app).conversation_id
        first_stop = (threading.Event(), threading.Event())
        second_stop = (threading.Event(), threading.Event())
        script.gates = {2: first_stop, 3: second_stop}
        await pilot.press("ctrl+n")
        await send(app, pilot, "streaming")
        assert await asyncio.to_thread(first_stop[0].wait, 5)
        await until(pilot, lambda: views(app)[-1] == ("assistant", "Hello from"), "partial")
        streaming = chat(app).conversation_id

        await _open_from_list(app, pilot, "older")  # not refused: the other chat opens
        assert chat(app).conversation_id == older
        assert views(app) == [("user", "older"), ("assistant", "Hello from **A**.")]
        assert chat(app).generating

        await pilot.press("ctrl+o")  # the picker opens too; loading another model is refused
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "the picker")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen), "picker closed")
        chat(app).load_model(model_b)
        await until(
            pilot, lambda: any("Stop the answer first" in n for n in notifications(app)), "why"
        )

        await _open_from_list(app, pilot, "streaming")  # back: still streaming, shown so far
        assert views(app)[-1] == ("assistant", "Hello from")
        first_stop[1].set()
        assert await asyncio.to_thread(second_stop[0].wait, 5)
        await until(pilot, lambda: views(app)[-1] == ("assistant", "Hello from **A**"), "more")

        await _open_from_list(app, pilot, "older")  # away again while it ends
        second_stop[1].set()
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Hello from **A**.")  # the older chat, intact
        stored = app.store.messages(streaming)  # type: ignore[arg-type]
        assert stored[-1].content == "Hello from **A**."
        assert stored[-1].stats["finish_reason"] == "stop"

        await _open_from_list(app, pilot, "streaming")
        assert views(app) == [("user", "streaming"), ("assistant", "Hello from **A**.")]
        answer = list(app.query(MessageView))[-1]
        assert not answer.has_class("-streaming") and not answer.has_class("-stopped")
