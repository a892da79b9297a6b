"""A keymap that gives one key to two live actions is named at start, and the remapped
action keeps its default key (the README's own example once left the picker with none)."""

from __future__ import annotations

from collections.abc import Callable

from backends.base import ModelSpec
from backends.settings import load_settings
from tests.tui.test_chat_screen import notifications, ready
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.keymap_check import keymap_collisions
from tui.screens.model_picker import ModelPickerScreen


async def test_a_colliding_keymap_is_named_and_the_action_keeps_its_key(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    settings = load_settings(keymap={"chat.pick_model": "f6", "chat.new": "alt+n"})
    app = make_app(model_a, settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await until(pilot, lambda: any("Keymap" in n for n in notifications(app)), "warning")
        warning = next(n for n in notifications(app) if "Keymap" in n)
        assert '"chat.pick_model"' in warning and '"app.gallery"' in warning
        assert "f6" in warning and "keeps its default key" in warning
        await pilot.press("ctrl+o")  # the default key still opens the picker
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "the picker")


def test_keys_that_do_not_collide_pass() -> None:
    assert keymap_collisions({"chat.pick_model": "alt+m", "chat.new": "alt+n"}) == []
    found = keymap_collisions({"chat.new": "ctrl+o"})  # the picker's key, same screen
    assert ("ctrl+o", "chat.new", "chat.pick_model") in found


async def test_a_keymap_entry_naming_no_binding_is_said_at_start(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    """A misspelt binding id ("chat.pick_modle") did nothing and said nothing."""
    settings = load_settings(keymap={"chat.pick_modle": "alt+m"})
    app = make_app(model_a, settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await until(pilot, lambda: any("Keymap" in n for n in notifications(app)), "warning")
        warning = next(n for n in notifications(app) if "Keymap" in n)
        assert '"chat.pick_modle", which is not a binding id' in warning
        assert 'did you mean "chat.pick_model"?' in warning
