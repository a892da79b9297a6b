"""Alt+digit as real terminals send it (ESC + digit) switches models instead of typing "™"."""

from __future__ import annotations

from collections.abc import Callable

from textual._xterm_parser import XTermParser
from textual.events import Key

from backends.base import ModelSpec
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.prompt_input import PromptInput


def keys_from_terminal(data: str) -> list[str]:
    """The key names Textual's parser makes of the bytes a terminal sends."""
    parser = XTermParser()
    tokens = [*parser.feed(data), *parser.feed("")]
    return [token.key for token in tokens if isinstance(token, Key)]


async def test_escape_digit_from_terminal_switches_to_recent_model(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, model_b: ModelSpec
) -> None:
    app = make_app(model_a)
    # xterm, GNOME Terminal, tmux and SSH send Alt+1 as ESC followed by "1".
    keys = keys_from_terminal("\x1b1")
    assert keys == ["alt+1"]
    assert keys_from_terminal("\x1be") == ["alt+e"]  # letters were already fine
    assert keys_from_terminal("1") == ["1"]
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        app.manager._remember(model_b)  # recent #1
        await pilot.press(*keys)
        await until(pilot, lambda: app.manager.spec.key == "b", "model B loaded")  # type: ignore[union-attr]
        assert app.screen.query_one(PromptInput).text == ""
