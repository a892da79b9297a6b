"""Following a streaming answer: scrolling up pauses it, End / PageDown to the bottom / a new
prompt resume it, text keeps arriving either way, and the list never scrolls above its top."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from textual.pilot import Pilot

from tests.fixtures.scripted_engine import Script, scripted_spec
from tests.tui.test_chat_screen import answered, ready, send, views
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.message_list import MessageList


def lines(start: int, stop: int) -> list[str]:
    return [f"line {i}\n\n" for i in range(start, stop)]


def gate(script: Script, index: int) -> tuple[threading.Event, threading.Event]:
    script.gates[index] = (threading.Event(), threading.Event())
    return script.gates[index]


async def reach(pilot: Pilot, app: LocalAIApp, reached: threading.Event, last: str) -> None:  # type: ignore[type-arg]
    assert await asyncio.to_thread(reached.wait, 10)
    await until(pilot, lambda: views(app)[-1][1].rstrip().endswith(last), f"{last!r} shown")
    await pilot.pause()


def at_bottom(messages: MessageList) -> bool:
    return messages.scroll_y == messages.max_scroll_y


async def test_page_up_on_an_answer_that_fits_does_not_stop_following(
    make_app: Callable[..., LocalAIApp], scripted_engines: dict[str, Script]
) -> None:
    script = scripted_engines["long"] = Script(tokens=["short\n\n", *lines(0, 60)])
    reached, go = gate(script, 1)
    later, go_on = gate(script, 41)
    app = make_app(scripted_spec("long"))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot, "long")
        messages = app.screen.query_one(MessageList)
        await send(app, pilot, "go")
        await reach(pilot, app, reached, "short")
        assert messages.max_scroll_y == 0 and messages.scroll_y == 0
        await pilot.press("pageup")  # focus is in the prompt: pages the conversation
        assert messages.scroll_y == 0
        go.set()
        await reach(pilot, app, later, "line 39")  # mid-answer, now taller than the view
        await until(pilot, lambda: messages.max_scroll_y > 20, "the answer laid out")
        await until(pilot, lambda: at_bottom(messages), "the newest line in view", tries=300)
        go_on.set()
        await answered(app, pilot)


async def test_scrolling_up_pauses_following_and_page_down_to_the_bottom_resumes(
    make_app: Callable[..., LocalAIApp], scripted_engines: dict[str, Script]
) -> None:
    script = scripted_engines["long"] = Script(tokens=[*lines(0, 40), *lines(40, 80)])
    first, go_first = gate(script, 40)
    app = make_app(scripted_spec("long"))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot, "long")
        messages = app.screen.query_one(MessageList)
        await send(app, pilot, "go")
        await reach(pilot, app, first, "line 39")
        # The text is in the view before it is laid out (an update waits for a gap between
        # keys, tui/key_gap.py): at the bottom of a list that has not grown yet is no proof.
        await until(pilot, lambda: messages.max_scroll_y > 20, "the answer laid out")
        await until(pilot, lambda: at_bottom(messages), "following the answer", tries=300)
        assert messages.scroll_y > 0
        await pilot.press("pageup")
        paused_at = messages.scroll_y
        assert 0 <= paused_at < messages.max_scroll_y
        go_first.set()
        await answered(app, pilot)
        assert views(app)[-1][1].rstrip().endswith("line 79")  # text kept arriving
        await pilot.pause()
        assert messages.scroll_y == paused_at  # ...but the view stayed where the user is
        for _ in range(20):
            if at_bottom(messages):
                break
            await pilot.press("pagedown")
        assert at_bottom(messages)
        # Following again: the next answer's text stays in view as it arrives.
        script.tokens, script.gates = lines(100, 140), {}
        second, go_second = gate(script, 30)
        await send(app, pilot, "more")
        await reach(pilot, app, second, "line 129")
        await until(pilot, lambda: at_bottom(messages), "following resumed", tries=300)
        go_second.set()
        await answered(app, pilot)


async def test_end_in_the_list_and_a_new_prompt_resume_following(
    make_app: Callable[..., LocalAIApp], scripted_engines: dict[str, Script]
) -> None:
    script = scripted_engines["long"] = Script(tokens=lines(0, 40))
    app = make_app(scripted_spec("long"))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot, "long")
        messages = app.screen.query_one(MessageList)
        await send(app, pilot, "go")
        await answered(app, pilot)
        await until(pilot, lambda: at_bottom(messages), "at the end", tries=300)
        await pilot.press("pageup")  # paused
        script.tokens = lines(50, 90)
        first, go_first = gate(script, 20)
        await send(app, pilot, "a new prompt")  # resumes following
        await reach(pilot, app, first, "line 69")
        await until(pilot, lambda: at_bottom(messages), "following the new answer", tries=300)
        messages.focus()
        await pilot.press("home")
        assert messages.scroll_y == 0
        await pilot.press("end")
        go_first.set()
        await answered(app, pilot)
        await until(pilot, lambda: at_bottom(messages), "End resumed following", tries=300)
        assert messages.scroll_y > 0
