"""A streamed answer that grows by a line costs one layout of the screen, not two.

Textual asks for a second layout whenever a layout gives a widget a new `virtual_size`; for
the message views that second layout found the same sizes and drew again, and a key typed
meanwhile waited for both (tui/widgets/sized_by_layout.py). Layouts are counted, not timed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen

import tui
from tests.tui.waiting import until
from tui.chat.message_list import MessageList
from tui.chat.message_view import MessageView


class ListApp(App[None]):
    CSS = "MessageView { height: auto; }"  # as the app's styles have it

    def compose(self) -> ComposeResult:
        yield MessageList(id="messages")


def count_layouts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item per layout of the screen from now on (a scroll's re-placing counts too)."""
    layouts: list[int] = []
    refresh_layout = Screen._refresh_layout

    def counting(self: Screen, *args, **kwargs) -> None:  # type: ignore[no-untyped-def,type-arg]
        layouts.append(1)
        refresh_layout(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counting)
    return layouts


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(6):
        await pilot.pause()


async def test_an_answer_growing_a_line_is_laid_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    app = ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        messages = app.query_one(MessageList)
        view = MessageView("assistant", "")
        await messages.add(view)
        view.start_stream()
        await view.append("The first line of the answer.")
        await _settle(pilot)
        layouts = count_layouts(monkeypatch)
        height = view.size.height
        await view.append("\nA second line.")
        await _settle(pilot)
        assert view.size.height == height + 1  # laid out: the answer grew by its new line
        assert len(layouts) == 1
        await view.end_stream()


async def test_words_added_to_an_answers_last_line_lay_out_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Most updates of a streaming answer add words to its last line: they repaint the
    paragraph alone (a layout of the screen cost ~3-4 ms before each such frame); a word
    that wraps to a new line is laid out."""
    app = ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        messages = app.query_one(MessageList)
        view = MessageView("assistant", "")
        await messages.add(view)
        view.start_stream()
        await view.append("The first words")
        await _settle(pilot)
        layouts = count_layouts(monkeypatch)
        height = view.size.height
        await view.append(" and more words.")
        await _settle(pilot)
        assert "The first words and more words." in str(view.query("MarkdownBlock").last().render())
        assert view.size.height == height
        assert layouts == []
        await view.append(" A long sentence that no longer fits on the line it started on.")
        await _settle(pilot)
        assert view.size.height == height + 1
        assert len(layouts) == 1
        await view.end_stream()


async def test_the_first_words_are_drawn_without_waiting_for_the_frame_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Textual draws on a 60-a-second timer; a frame drawn just before (the views' mount)
    held the first words until its next tick. With that timer never resumed, the first
    words still reach the terminal."""
    app = ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        messages = app.query_one(MessageList)
        view = MessageView("assistant", "")
        view.add_class("-streaming")  # as the chat mounts an answer to come (its "…" line)
        await messages.add(view)
        view.start_stream()
        await _settle(pilot)
        written: list[str] = []
        display = App._display

        def capture(self: App[None], screen: Screen, update) -> None:  # type: ignore[no-untyped-def,type-arg]
            written.append(update.render_segments(self.console))
            display(self, screen, update)

        monkeypatch.setattr(App, "_display", capture)
        monkeypatch.setattr(app.screen._update_timer, "resume", lambda: None)
        await view.append("Firstwords")
        for _ in range(50):  # the stream's task runs; no timer can draw
            await asyncio.sleep(0)
        assert any("Firstwords" in text for text in written)
        await view.end_stream()


class StyledListApp(App[None]):
    # The chat's styles: the screen's, and the messages' (added after the first frame).
    CSS_PATH = [
        str(Path(tui.__file__).parent / "styles" / name)
        for name in ("chat.tcss", "chat_messages.tcss")
    ]

    def compose(self) -> ComposeResult:
        yield MessageList(id="messages")


async def test_an_answer_keeps_its_width_when_the_list_starts_to_scroll() -> None:
    """The scrollbar took a column from the messages when the conversation first outgrew the
    view: every message re-wrapped at once (one layout of ~50 ms on this machine, which a
    key typed then waited for) and the text visibly shifted."""
    app = StyledListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        messages = app.query_one(MessageList)
        view = MessageView("assistant", "")
        await messages.add(view)
        view.start_stream()
        await view.append("The first line of the answer.")
        await _settle(pilot)
        body = view.query_one(".body")
        width = body.size.width
        assert messages.max_scroll_y == 0
        await view.append("".join(f"\n\nline {i}" for i in range(20)))
        await _settle(pilot)
        assert messages.max_scroll_y > 0  # the list scrolls now
        assert body.size.width == width
        await view.end_stream()


async def test_following_a_long_answer_scrolls_in_the_layout_that_places_its_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Following used to scroll after the layout, so each update drew the list twice: once
    grown below the view, once scrolled (the second a repaint of the whole list)."""
    app = StyledListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        messages = app.query_one(MessageList)
        view = MessageView("assistant", "")
        await messages.add(view)
        view.start_stream()
        await view.append("\n\n".join(f"paragraph {i}" for i in range(30)))
        await _settle(pilot)
        assert messages.max_scroll_y > 0 and messages.scroll_y == messages.max_scroll_y
        layouts = count_layouts(monkeypatch)
        bottom = messages.max_scroll_y
        await view.append("\nand its second line")
        # Then time for any layout that would follow.
        await until(pilot, lambda: messages.max_scroll_y == bottom + 1, "the line laid out")
        await _settle(pilot)
        assert messages.scroll_y == messages.max_scroll_y  # the newest line in view
        assert len(layouts) == 1
        await view.end_stream()
