"""Keys before streaming: while the user types, an answer's update waits for the gap after
a key is on screen (a key typed during an update waited for its parse, layout and frame)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Markdown

from tui import key_gap as key_gap_module
from tui.chat.answer_stream import AnswerStream
from tui.key_gap import KeyGap


class TypingApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.key_gap = KeyGap()

    def compose(self) -> ComposeResult:
        yield Markdown("")


async def _settle(pilot: object) -> None:
    for _ in range(5):
        await pilot.pause()  # type: ignore[attr-defined]


async def test_an_update_waits_for_the_typed_key_to_be_drawn(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(key_gap_module, "TYPING_S", 60.0)  # the user never stops typing here
    app = TypingApp()
    async with app.run_test() as pilot:
        markdown = app.query_one(Markdown)
        stream = AnswerStream(markdown, budget=1.0, max_rest=60.0)
        stream.start()
        await stream.write("Hello")  # the first text: shown at once
        await _settle(pilot)
        assert markdown.source == "Hello"

        app.key_gap.pressed()  # a key arrives; its frame is not drawn yet
        await stream.write(" world")
        await _settle(pilot)
        assert markdown.source == "Hello"  # the update holds back for the key

        app.key_gap.drawn()
        await _settle(pilot)
        assert markdown.source == "Hello world"
        await stream.stop()


async def test_without_typing_updates_go_at_once() -> None:
    app = TypingApp()
    async with app.run_test() as pilot:
        markdown = app.query_one(Markdown)
        stream = AnswerStream(markdown, budget=1.0, max_rest=60.0)
        stream.start()
        await stream.write("Hello")
        await _settle(pilot)
        await stream.write(" world")
        await _settle(pilot)
        assert markdown.source == "Hello world"
        await stream.stop()


async def test_stop_shows_what_waited_for_a_key(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(key_gap_module, "TYPING_S", 60.0)
    app = TypingApp()
    async with app.run_test() as pilot:
        markdown = app.query_one(Markdown)
        stream = AnswerStream(markdown, budget=1.0, max_rest=60.0)
        stream.start()
        await stream.write("Hello")
        await _settle(pilot)
        app.key_gap.pressed()
        await stream.write(" world")
        await _settle(pilot)
        await stream.stop()  # the answer ended: nothing waits for keys any more
        assert markdown.source == "Hello world"


class PromptApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.key_gap = KeyGap()

    def compose(self) -> ComposeResult:
        from tui.chat.prompt_input import PromptInput

        yield PromptInput()


async def test_a_key_counts_as_drawn_once_the_prompt_shows_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`drawn()` let a held update go while the key was not on screen yet: a callback after
    the next refresh ran before the prompt had even asked for its repaint, so the update's
    parse, layout and frame came first and the key's echo waited behind them."""
    from tui.chat.prompt_input import PromptInput

    app = PromptApp()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        await _settle(pilot)
        shown: list[str] = []  # the prompt's text each time it was drawn
        render_lines = prompt.render_lines

        def drawing(crop):  # type: ignore[no-untyped-def]
            shown.append(prompt.text)
            return render_lines(crop)

        monkeypatch.setattr(prompt, "render_lines", drawing)
        seen_when_drawn: list[str] = []
        drawn = app.key_gap.drawn

        def recording_drawn() -> None:
            seen_when_drawn.append(shown[-1] if shown else "")
            drawn()

        monkeypatch.setattr(app.key_gap, "drawn", recording_drawn)
        await pilot.press("x")
        await _settle(pilot)
        assert prompt.text == "x"
        assert seen_when_drawn and seen_when_drawn[0] == "x"
