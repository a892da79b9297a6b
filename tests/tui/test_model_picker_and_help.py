"""Model picker, help screen, command palette and key remapping."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import DataTable, Input

from backends.base import ModelSpec
from backends.settings import load_settings
from tests.fixtures.scripted_engine import Script
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.chat_screen import ChatScreen
from tui.screens.help import HelpScreen
from tui.screens.model_picker import ModelPickerScreen, format_size


def table_text(table: DataTable) -> list[str]:  # type: ignore[type-arg]
    """Rows as the user reads them (markup applied, styles dropped)."""
    return [
        " | ".join(Text.from_markup(str(cell)).plain for cell in table.get_row_at(i))
        for i in range(table.row_count)
    ]


async def test_picker_lists_models_filters_and_loads_the_chosen_one(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    model_b: ModelSpec,
    scripted_engines: dict[str, Script],
    tmp_path,  # type: ignore[no-untyped-def]
    tiny_gguf_path,  # type: ignore[no-untyped-def]
) -> None:
    folder = tmp_path / "ggufs"
    folder.mkdir()
    (folder / "tiny-q4.gguf").write_bytes(tiny_gguf_path.read_bytes())
    settings = load_settings(model_dirs=[folder])
    app = make_app(model_a, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        app.manager._remember(model_b)  # B used before: now recent #1, A #2
        await pilot.press("ctrl+o")
        picker = app.screen
        assert isinstance(picker, ModelPickerScreen)
        table = picker.query_one(DataTable)
        await until(pilot, lambda: any("tiny-q4" in r for r in table_text(table)), "folder GGUF")
        rows = table_text(table)
        assert rows[0].startswith("1 | Model B") and rows[1].startswith("2 | Model A ●")
        tiny = next(r for r in rows if "tiny-q4" in r)
        size = format_size(tiny_gguf_path.stat().st_size)
        assert "llama.cpp" in tiny and size in tiny and "ggufs" in tiny and "✗" not in tiny
        notes = picker.query_one("#picker-notes")
        await until(pilot, lambda: "Model key: b" in str(notes.render()), "the key of row 1")
        table.move_cursor(row=rows.index(tiny))
        await pilot.pause()
        # The key [models."…"] settings and --model take, shown for the highlighted model.
        assert f"Model key: gguf:{folder / 'tiny-q4.gguf'}" in str(notes.render())
        table.move_cursor(row=0)
        await pilot.press(*"model b")
        assert table_text(table) == [rows[0]]
        await pilot.press("enter")
        await until(pilot, lambda: app.manager.spec.key == "b", "model B loaded")  # type: ignore[union-attr]
        assert isinstance(app.screen, ChatScreen)


async def test_a_deleted_recent_model_leaves_the_recent_list_instead_of_showing_damaged(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    tmp_path,  # type: ignore[no-untyped-def]
    tiny_gguf_path,  # type: ignore[no-untyped-def]
) -> None:
    """Deleting a model's file (or folder) left it in the recents as "✗ … damaged"."""
    from dataclasses import replace

    kept = tmp_path / "kept.gguf"
    kept.write_bytes(tiny_gguf_path.read_bytes())
    gone_file = tmp_path / "gone.gguf"
    gone_file.write_bytes(tiny_gguf_path.read_bytes())
    gone_folder = tmp_path / "gone-folder"
    gone_folder.mkdir()
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        gguf = replace(model_a, engine="llama_cpp", source="path")
        app.manager._remember(replace(gguf, key="gone", name="Gone GGUF", path=str(gone_file)))
        app.manager._remember(replace(model_a, key="gf", name="Gone folder", path=str(gone_folder)))
        app.manager._remember(replace(gguf, key="kept", name="Kept GGUF", path=str(kept)))
        gone_file.unlink()
        gone_folder.rmdir()
        await pilot.press("ctrl+o")
        table = app.screen.query_one(DataTable)
        await until(
            pilot,
            lambda: "Looking" not in str(app.screen.query_one("#picker-notes").render()),
            "discovery done",
        )
        rows = table_text(table)
        assert rows[0].startswith("1 | Kept GGUF") and rows[1].startswith("2 | Model A ●")
        assert not any("Gone" in r or "damaged" in r for r in rows)


async def test_picker_marks_damaged_ggufs_and_says_why(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    tmp_path,  # type: ignore[no-untyped-def]
    tiny_gguf_path,  # type: ignore[no-untyped-def]
) -> None:
    folder = tmp_path / "ggufs"
    folder.mkdir()
    (folder / "good.gguf").write_bytes(tiny_gguf_path.read_bytes())
    (folder / "cut.gguf").write_bytes(tiny_gguf_path.read_bytes()[:300_000])  # half downloaded
    (folder / "page.gguf").write_bytes(b"<html>404 Not Found</html>" * 10)
    app = make_app(model_a, load_settings(model_dirs=[folder]))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        await pilot.press("ctrl+o")
        picker = app.screen
        table = picker.query_one(DataTable)
        await until(pilot, lambda: any("✗" in r for r in table_text(table)), "marks")
        cells = [r.split(" | ") for r in table_text(table)]
        rows = {c[1].split()[-1]: c for c in cells if c[5].endswith(".gguf")}
        assert rows.keys() == {"good", "cut", "page"}
        assert rows["good"][1] == "good" and rows["good"][4] != "damaged"
        for name in ("cut", "page"):
            assert rows[name][1] == f"✗ {name}" and rows[name][4] == "damaged"
        await pilot.press(*"cut")
        await pilot.pause()
        notes = str(picker.query_one("#picker-notes").render())
        assert "truncated" in notes and "Download it again" in notes
        await pilot.press("enter")  # refused with the reason: loading it could only fail
        await pilot.pause()
        assert app.screen is picker
        assert any("truncated" in str(n.message) for n in app._notifications)


async def test_picker_alt_number_and_escape(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, model_b: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        app.manager._remember(model_b)
        await pilot.press("ctrl+o")
        await pilot.press("escape")
        assert isinstance(app.screen, ChatScreen) and app.manager.spec.key == "a"  # type: ignore[union-attr]
        await pilot.press("ctrl+o", "alt+1")
        await until(pilot, lambda: app.manager.spec.key == "b", "model B loaded")  # type: ignore[union-attr]


async def test_help_lists_every_binding_with_remapped_keys(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    settings = load_settings(keymap={"chat.pick_model": "alt+m"})  # f3 would take the Hub's
    app = make_app(model_a, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        rows = table_text(app.screen.query_one(DataTable))
        text = "\n".join(rows)
        for expected in (
            "Stop",
            "Regenerate",
            "Copy answer",
            "Copy code block",
            "New line",
            "Send",
            "Edit & resend",
            "Recent model 1-9",
            "Params",
            "Chats",
        ):
            assert expected in text, expected
        model_row = next(r for r in rows if "chat.pick_model" in r)
        assert model_row.startswith("alt+m")
        assert any(r.startswith("ctrl+j") and "New line" in r for r in rows)
        await pilot.press("escape", "alt+m")
        assert isinstance(app.screen, ModelPickerScreen)


async def test_command_palette_offers_every_chat_action(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for action in (
            "Pick model",
            "New chat",
            "Open conversations",
            "Stop",
            "Regenerate",
            "Edit last prompt",
            "Copy last answer",
            "Copy last code block",
            "Toggle parameters panel",
            "Keys and help",
            "Switch to Model A",
        ):
            assert action in titles, action
        await pilot.press("ctrl+p")
        await pilot.press(*"pick model")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "picker via palette")


async def test_params_panel_toggles_and_fits_at_80_columns(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.query("#params"), "the panel (mounted after frame 1)")
        panel = app.screen.query_one("#params")
        assert not panel.display  # narrow terminal: hidden until asked for
        await pilot.press("ctrl+t")
        assert panel.display and isinstance(app.focused, Input)
        assert app.screen.query_one("#messages").size.width >= 40
        await pilot.press("ctrl+t")
        assert not panel.display


def test_sizes_read_like_a_file_manager() -> None:
    assert format_size(None) == "—"
    assert format_size(98_400_000) == "98.4 MB"
    assert format_size(512) == "512 B"


async def test_help_shows_one_key_per_move_in_the_conversation_list(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    """It read "↑↓ / ↑  Select": the up key repeated beside the "↑↓" that stands for both."""
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        rows = table_text(app.screen.query_one(DataTable))
        moves = [r for r in rows if "conversations.down" in r]
        assert len(moves) == 1 and moves[0].startswith("↑↓ ")
        assert not any("↑↓ / ↑" in r for r in rows)


async def test_f1_shows_the_keys_of_the_screen_it_was_pressed_on_first(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    """F1 on Images listed the global and the chat's keys first: at 80x24 a new user saw no
    Images key without scrolling. The screen's own section now follows Global."""
    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        rows = table_text(app.screen.query_one(DataTable))
        titles = [row.split(" | ")[0] for row in rows if row.endswith(" |  | ")]
        assert titles[:2] == ["Global", "Images (F5)"], titles[:4]
        await pilot.press("escape", "f2", "f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help on the chat")
        rows = table_text(app.screen.query_one(DataTable))
        titles = [row.split(" | ")[0] for row in rows if row.endswith(" |  | ")]
        assert titles[:2] == ["Global", "Chat"], titles[:4]
