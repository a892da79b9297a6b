"""Alt+digit and alt+e as real terminals send them (ESC + key) act, never type.

Pilot's `press("alt+1")` makes a key event with no character, which no input widget types;
a terminal's bytes go through Textual's parser, which attaches the character ("1", "e").
So these tests feed the bytes through the parser and the driver, as a terminal would.
"""

from __future__ import annotations

from collections.abc import Callable

from textual._xterm_parser import XTermParser
from textual.events import Key
from textual.pilot import Pilot
from textual.widgets import Input

from backends.base import ModelSpec
from tests.tui.waiting import until
from tui.alt_digit_keys import ESCAPE_PREFIX_S, EscapePrefix, read_alt_digits_as_keys
from tui.app import LocalAIApp
from tui.chat.chat_screen import ChatScreen
from tui.chat.prompt_input import PromptInput
from tui.screens.model_picker import ModelPickerScreen


def keys_from_terminal(data: str) -> list[Key]:
    """The key events Textual's parser makes of the bytes a terminal sends."""
    read_alt_digits_as_keys()  # as the app does at start
    parser = XTermParser()
    tokens = [*parser.feed(data), *parser.feed("")]
    return [token for token in tokens if isinstance(token, Key)]


async def type_from_terminal(app: LocalAIApp, pilot: Pilot, data: str) -> None:  # type: ignore[type-arg]
    assert app._driver is not None
    for key in keys_from_terminal(data):
        key.set_sender(app)
        app._driver.send_message(key)
    await pilot.pause()


def test_the_parser_reads_escape_digit_as_alt_digit() -> None:
    # xterm, GNOME Terminal, tmux and SSH send Alt+1 as ESC followed by "1".
    assert [k.key for k in keys_from_terminal("\x1b1")] == ["alt+1"]
    assert [k.key for k in keys_from_terminal("\x1be")] == ["alt+e"]  # letters were already fine
    assert [k.key for k in keys_from_terminal("1")] == ["1"]


async def test_escape_digit_switches_to_recent_model_with_focus_in_the_prompt(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, model_b: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        app.manager._remember(model_b)  # recent #1
        prompt = app.screen.query_one(PromptInput)
        assert prompt.has_focus
        await type_from_terminal(app, pilot, "hi\x1b1")
        await until(pilot, lambda: app.manager.spec.key == "b", "model B loaded")  # type: ignore[union-attr]
        assert prompt.text == "hi"


def test_alt_keys_that_arrive_together_stay_alt_keys() -> None:
    """Two presses within a few ms (SSH delivers them in one read) were "^", "1", alt+1."""
    assert [k.key for k in keys_from_terminal("\x1b1\x1b1")] == ["alt+1", "alt+1"]
    assert [k.key for k in keys_from_terminal("\x1b4\x1b5")] == ["alt+4", "alt+5"]
    assert [k.key for k in keys_from_terminal("\x1be\x1b2")] == ["alt+e", "alt+2"]
    assert [k.key for k in keys_from_terminal("\x1b[A\x1bb")] == ["up", "ctrl+left"]


async def test_two_quick_alt_digits_type_nothing_into_the_prompt(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, model_b: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        app.manager._remember(model_b)  # recent #1
        prompt = app.screen.query_one(PromptInput)
        await type_from_terminal(app, pilot, "hi\x1b1\x1b1")
        await until(pilot, lambda: app.manager.spec.key == "b", "model B loaded")  # type: ignore[union-attr]
        assert prompt.text == "hi"


async def test_escape_e_edits_the_last_prompt_instead_of_typing_e(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        await pilot.press(*"first", "enter")
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await until(pilot, lambda: not screen.generating and screen.conversation_id, "answer")
        await type_from_terminal(app, pilot, "\x1be")
        prompt = screen.query_one(PromptInput)
        assert prompt.editing is not None
        assert prompt.text == "first"


async def test_escape_digit_in_the_picker_filter_picks_the_recent_model(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, model_b: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        app.manager._remember(model_b)
        await pilot.press("ctrl+o")
        picker = app.screen
        assert isinstance(picker, ModelPickerScreen)
        assert picker.query_one("#picker-filter", Input).has_focus
        await type_from_terminal(app, pilot, "\x1b1")
        await until(pilot, lambda: app.manager.spec.key == "b", "model B loaded")  # type: ignore[union-attr]
        assert isinstance(app.screen, ChatScreen)  # the picker closed on the pick


async def test_escape_then_a_digit_switches_like_alt_digit(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, model_b: ModelSpec
) -> None:
    """Esc pressed on its own, then a digit: the terminal sends them apart (tmux 3.5 waits
    only 10 ms for a following key), yet it means Alt+digit, as in readline."""
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        app.manager._remember(model_b)
        prompt = app.screen.query_one(PromptInput)
        await type_from_terminal(app, pilot, "\x1b")  # Esc alone: nothing to stop here
        await type_from_terminal(app, pilot, "h")  # not a key Esc prefixes: typed
        await type_from_terminal(app, pilot, "1")  # no longer after an Esc: typed
        assert prompt.text == "h1"
        await type_from_terminal(app, pilot, "\x1b")
        await type_from_terminal(app, pilot, "1")
        await until(pilot, lambda: app.manager.spec.key == "b", "model B loaded")  # type: ignore[union-attr]
        assert prompt.text == "h1"


def test_the_escape_prefix_lasts_a_moment() -> None:
    now = [100.0]
    prefix = EscapePrefix(clock=lambda: now[0])
    prefix.arm()
    now[0] += ESCAPE_PREFIX_S + 0.01
    assert prefix.apply(Key("2", "2")).key == "2"  # too late: a digit
    prefix.arm()
    assert prefix.apply(Key("2", "2")).key == "alt+2"
    assert prefix.apply(Key("2", "2")).key == "2"  # once
