"""AnswerStream's pacing: the UI CPU budget counts from the first text, not from start()."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Markdown

from tui.chat import answer_stream
from tui.chat.answer_stream import UI_CPU_BUDGET, AnswerStream


class FakeClock:
    """Stands in for the `time` module inside answer_stream: the test moves both clocks."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = 0.0

    def thread_time(self) -> float:
        return self.cpu

    def monotonic(self) -> float:
        return self.wall


class RecordedStream(AnswerStream):
    """Records each rest instead of sleeping through it."""

    def __init__(self, markdown: Markdown) -> None:
        super().__init__(markdown)
        self.rests: list[float] = []

    async def _rest(self, seconds: float) -> None:
        self.rests.append(seconds)


class OneMarkdown(App[None]):
    def compose(self) -> ComposeResult:
        yield Markdown("")


async def _shown(app: App[None], pilot: object, text: str) -> None:
    markdown = app.query_one(Markdown)
    for _ in range(50):  # bounded: a few loop turns are enough
        if markdown.source == text:
            return
        await pilot.pause()  # type: ignore[attr-defined]
    raise AssertionError(f"{text!r} never reached the widget (it holds {markdown.source!r})")


async def test_ui_work_before_the_first_text_does_not_hold_back_the_next_update(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(answer_stream, "time", clock)
    app = OneMarkdown()
    async with app.run_test() as pilot:
        stream = RecordedStream(app.query_one(Markdown))
        stream.start()
        await pilot.pause()  # the stream's task is running, waiting for text
        clock.cpu += 1.0  # mounting and drawing the empty message: not the stream's cost
        clock.wall += 0.05
        await stream.write("Hello")
        await _shown(app, pilot, "Hello")
        await pilot.pause()
        assert stream.rests == []  # counted from start(), it rested the maximum here

        clock.cpu += 0.3 * UI_CPU_BUDGET  # the stream's own drawing: 0.3 s of budget
        await stream.write(" world")
        await _shown(app, pilot, "Hello world")
        await pilot.pause()
        assert stream.rests == pytest.approx([0.3])  # pacing still applies to what the stream costs
        await stream.stop()
