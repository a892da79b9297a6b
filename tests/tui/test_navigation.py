"""One navigation for the whole app: every top-level screen reaches every other by its key and
comes back with Esc (the chat with its key), the navigation bar says where the user is, and
what was typed on a screen is still there after leaving it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, TextArea

from backends.settings import load_settings
from backends.store.gallery import GalleryStore
from tests.fixtures.hub_server import HubServer
from tests.tui.conftest import QuietGauge
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.navigation import CHAT, PLACES, place_named
from tui.widgets.navigation_bar import NavigationBar

# What a user types on each screen, and where (None: the screen has no text field).
TYPED = {
    CHAT: ("#prompt", "a question I am still writing"),
    "hub": ("#search", "qwen"),
    "cache": None,
    "images": ("#image-prompt", "a lighthouse at dusk"),
    "gallery": ("#gallery-search", "cat"),
    "speech": ("#speech-file", "/tmp/talk.wav"),
    "tasks": ("#tasks-file", "/tmp/reviews.txt"),
}


@pytest.fixture
def app(
    make_app: Callable[..., LocalAIApp], hub: HubServer, tmp_path: Path, monkeypatch
) -> LocalAIApp:  # noqa: ANN001
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    settings = load_settings(hf_endpoint=hub.endpoint)
    settings.images.renderer = "halfcell"
    built = make_app(settings=settings)
    built.images._gallery = GalleryStore(tmp_path / "data" / "gallery.sqlite3")
    built.images.gauge_factory = QuietGauge
    return built


def bar_text(app: LocalAIApp) -> str:
    return str(app.screen.query_one(NavigationBar).render())


def field_text(app: LocalAIApp, name: str) -> str:
    where = TYPED[name]
    assert where is not None
    screen = app.navigation.screen(name)
    assert screen is not None
    field = screen.query_one(where[0])
    return field.text if isinstance(field, TextArea) else field.value  # type: ignore[union-attr]


async def arrive(pilot, app: LocalAIApp, name: str) -> None:  # noqa: ANN001
    await until(
        pilot,
        lambda: app.current_mode == name,
        f"the {name} screen, not {app.current_mode} (focus {app.screen.focused})",
    )
    await until(pilot, lambda: app.screen.query(NavigationBar), f"the bar on {name}")
    await pilot.pause()


async def test_every_screen_reaches_every_other_and_comes_back(app: LocalAIApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await arrive(pilot, app, CHAT)
        # Visit each screen once and type on it.
        for place in PLACES:
            await pilot.press(place.key)
            await arrive(pilot, app, place.name)
            typed = TYPED[place.name]
            if typed is not None:
                field = app.screen.query_one(typed[0])
                field.focus()
                await pilot.pause()
                await pilot.press(*typed[1])
                assert field_text(app, place.name) == typed[1]

        for here in PLACES:
            await pilot.press(here.key)
            await arrive(pilot, app, here.name)
            # The key of the open screen does nothing.
            await pilot.press(here.key)
            await pilot.pause()
            assert app.current_mode == here.name
            for there in PLACES:
                if there is here:
                    continue
                await pilot.press(there.key)
                await arrive(pilot, app, there.name)
                bar = bar_text(app)
                assert there.title in bar and f"{here.key.upper()} {here.title}" in bar
                assert f"{there.key.upper()} {there.title}" not in bar  # open: no key shown
                # Back where the user came from: Esc, except on the chat (its Esc stops
                # answers), which leaves by a screen's key.
                await pilot.press("escape" if there.name != CHAT else here.key)
                await arrive(pilot, app, here.name)

        for name, typed in TYPED.items():
            if typed is not None:
                assert field_text(app, name) == typed[1], name


async def test_esc_walks_back_through_the_screens_the_user_came_from(app: LocalAIApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await arrive(pilot, app, CHAT)
        for name in ("images", "gallery", "hub"):
            await pilot.press(place_named(name).key)
            await arrive(pilot, app, name)
        for name in ("gallery", "images", CHAT):
            # Esc on a screen whose text field has focus still goes back.
            await pilot.press("escape")
            await arrive(pilot, app, name)
        assert "F5 Images" in bar_text(app) and " Chat " in bar_text(app)


async def test_the_keys_work_while_a_text_field_has_focus(app: LocalAIApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await arrive(pilot, app, CHAT)
        assert app.screen.focused is app.screen.query_one("#prompt")
        for place in PLACES[1:]:
            await pilot.press(place.key)
            await arrive(pilot, app, place.name)
            typed = TYPED[place.name]
            if typed is not None:
                app.screen.query_one(typed[0]).focus()
                await pilot.pause()
                assert isinstance(app.screen.focused, Input | TextArea)
        await pilot.press("f2")
        await arrive(pilot, app, CHAT)


async def test_refresh_on_the_hub_and_cache_is_not_a_screen_key(app: LocalAIApp) -> None:
    """F5 opens Images everywhere; the Hub and cache refresh with ctrl+r (ids unchanged)."""
    async with app.run_test(size=(120, 40)) as pilot:
        await arrive(pilot, app, CHAT)
        for name in ("hub", "cache"):
            await pilot.press(place_named(name).key)
            await arrive(pilot, app, name)
            await pilot.press("f5")
            await arrive(pilot, app, "images")
            await pilot.press("escape")
            await arrive(pilot, app, name)
            keys = {b.id: b.key for (_, b, _, _) in app.screen.active_bindings.values()}
            assert keys[f"{name}.refresh"] == "ctrl+r"


async def test_palette_and_help_list_every_screen(app: LocalAIApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await arrive(pilot, app, CHAT)
        titles = {c.title: c.help for c in app.get_system_commands(app.screen)}
        for place in PLACES:
            assert f"({place.key.upper()})" in titles[f"Go to {place.title}"]
        await pilot.press("f1")
        await pilot.pause()
        from tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        for place in PLACES:
            assert [place.key, place.title, place.binding_id] in rows


async def test_a_keymap_moves_a_screen_key_and_the_bar_follows(
    make_app: Callable[..., LocalAIApp], hub: HubServer
) -> None:
    settings = load_settings(hf_endpoint=hub.endpoint)
    settings.keymap = {"app.hub": "f10"}
    app = make_app(settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await arrive(pilot, app, CHAT)
        assert "F10 Hub" in bar_text(app)
        await pilot.press("f10")
        await arrive(pilot, app, "hub")
