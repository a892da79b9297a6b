"""ConversationsScreen driven by keys, as a user would: what shows, what the store holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label

from backends.store.conversations import ConversationStore
from tui.chat.conversation_table import relative_time
from tui.chat.conversations_screen import NEW_CONVERSATION, ConversationsScreen
from tui.screens.confirm import ConfirmScreen


class PickerApp(App[None]):
    """Pushes the screen on start and records what it dismissed with."""

    def __init__(self, store: ConversationStore) -> None:
        super().__init__()
        self.store = store
        self.results: list[int | None] = []

    def on_mount(self) -> None:
        self.push_screen(ConversationsScreen(self.store, search_delay=0), self.results.append)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    s = ConversationStore(tmp_path / "c.sqlite3")
    pasta = s.create_conversation("Dinner ideas", model_key="smollm2")
    s.add_message(pasta, "user", "How long do I boil spaghetti?")
    s.add_message(pasta, "assistant", "About nine minutes, then taste it.")
    rust = s.create_conversation("Rust borrow checker", model_key="gemma-270m")
    s.add_message(rust, "user", "Why does the compiler reject this?")
    s.create_conversation("Empty chat")
    yield s
    s.close()


def titles(app: App[None]) -> list[str]:
    table = app.screen.query_one("#conversations-table", DataTable)
    return [str(table.get_row_at(i)[0]).split("\n")[0] for i in range(table.row_count)]


def cell(app: App[None], row: int, column: int) -> str:
    return str(app.screen.query_one("#conversations-table", DataTable).get_row_at(row)[column])


async def test_rows_show_title_model_count_newest_first(store: ConversationStore) -> None:
    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert titles(app) == ["Empty chat", "Rust borrow checker", "Dinner ideas"]
        assert [cell(app, 2, c) for c in (1, 2, 3)] == ["smollm2", "2", "just now"]
        assert cell(app, 0, 1) == "—"
        status = app.screen.query_one("#conversations-status", Label)
        assert str(status.render()) == "3 conversations"


async def test_typing_a_word_from_a_message_narrows_the_list(store: ConversationStore) -> None:
    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press(*"spaghetti")
        await pilot.pause()
        assert titles(app) == ["Dinner ideas"]
        assert "spaghetti" in cell(app, 0, 0)  # the matching text under the title
        await pilot.press(*" xyzzy")
        await pilot.pause()
        assert titles(app) == []
        empty = app.screen.query_one("#conversations-empty")
        assert "No conversation matches" in str(empty.render())
        for _ in range(len("spaghetti xyzzy")):
            await pilot.press("backspace")
        await pilot.pause()
        assert len(titles(app)) == 3


async def test_odd_search_text_does_not_break_the_screen(store: ConversationStore) -> None:
    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press(*'"borrow (')
        await pilot.pause()
        assert titles(app) == ["Rust borrow checker"]


async def test_enter_before_the_debounce_fires_searches_first(store: ConversationStore) -> None:
    rust = store.list_conversations()[1].id

    class DebouncedApp(PickerApp):
        def on_mount(self) -> None:
            self.push_screen(ConversationsScreen(self.store), self.results.append)

    app = DebouncedApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press(*"compiler", "enter")
        await pilot.pause()
        assert app.results == [rust]


async def test_enter_returns_the_highlighted_id(store: ConversationStore) -> None:
    ids = [c.id for c in store.list_conversations()]
    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("down", "enter")  # from the search box
        await pilot.pause()
        assert app.results == [ids[1]]
        assert not isinstance(app.screen, ConversationsScreen)


async def test_enter_in_the_list_and_search_then_enter(store: ConversationStore) -> None:
    pasta = store.list_conversations()[-1].id
    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press(*"dinner", "enter")
        await pilot.pause()
        assert app.results == [pasta]

    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("tab", "down", "down", "enter")
        await pilot.pause()
        assert app.results == [pasta]


async def test_escape_closes_with_none_and_n_asks_for_a_new_chat(
    store: ConversationStore,
) -> None:
    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]

    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("n")  # types into the search box
        await pilot.pause()
        assert app.results == []
        await pilot.press("tab", "n")
        await pilot.pause()
        assert app.results == [NEW_CONVERSATION]


async def test_rename_changes_the_title_on_screen_and_in_the_store(
    store: ConversationStore,
) -> None:
    rust = store.list_conversations()[1].id
    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("tab", "down", "r")
        await pilot.pause()
        box = app.screen.query_one("#conversations-rename", Input)
        assert box.has_focus and box.value == "Rust borrow checker"
        await pilot.press(*"Lifetimes", "enter")  # typing replaces the selected text
        await pilot.pause()
        assert titles(app)[1] == "Lifetimes"
        assert store.get_conversation(rust).title == "Lifetimes"  # type: ignore[union-attr]
        assert not box.display

        await pilot.press("r", *"Nope", "escape")  # Esc cancels, screen stays open
        await pilot.pause()
        assert titles(app)[1] == "Lifetimes"
        assert isinstance(app.screen, ConversationsScreen) and app.results == []


async def test_delete_after_confirm_removes_it(store: ConversationStore) -> None:
    pasta = store.list_conversations()[-1].id
    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("tab", "down", "down", "d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-question", Label).render())
        assert question == "Delete “Dinner ideas” (2 messages)?"
        await pilot.press("n")  # declined: nothing changes
        await pilot.pause()
        assert "Dinner ideas" in titles(app) and store.get_conversation(pasta) is not None

        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert titles(app) == ["Empty chat", "Rust borrow checker"]
        assert store.get_conversation(pasta) is None and store.messages(pasta) == []


async def test_export_writes_a_markdown_file_and_says_where(
    store: ConversationStore, tmp_path: Path
) -> None:
    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("tab", "down", "down", "e")
        await pilot.pause()
        [note] = app._notifications
        path = Path(note.message)
        assert path.suffix == ".md" and path.name == "dinner-ideas.md"
        text = path.read_text(encoding="utf-8")
        assert "# Dinner ideas" in text and "How long do I boil spaghetti?" in text


async def test_empty_store_says_how_to_start(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "empty.sqlite3")
    app = PickerApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        empty = app.screen.query_one("#conversations-empty")
        # Focus is in the search box, where n types: the hint names a key that works there.
        assert app.screen.focused is app.screen.query_one("#conversations-search")
        assert "Press ctrl+n to start a new chat" in str(empty.render())
        await pilot.press("enter", "tab", "r", "d", "e")  # nothing to act on: no-ops
        await pilot.pause()
        assert isinstance(app.screen, ConversationsScreen) and app.results == []
        app.screen.query_one("#conversations-search").focus()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.results == [NEW_CONVERSATION]
    store.close()


async def test_wide_titles_are_cut_by_cells_and_models_show_their_names(
    tmp_path: Path,
) -> None:
    """CJK titles were cut by characters (two cells each) and pushed the columns off screen;
    the model column showed the key's tail ("smollm2") instead of the model's name."""
    from rich.cells import cell_len

    store = ConversationStore(tmp_path / "c.sqlite3")
    title = "会議の議事録をまとめて下さい。来週の予定と担当者も一覧にして、期限を付けてください"
    store.create_conversation(title, model_key="demo:smollm2")
    names = {"demo:smollm2": "SmolLM2 135M Instruct (demo)"}
    app = App[None]()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(ConversationsScreen(store, search_delay=0, model_names=names))
        await pilot.pause()
        shown = cell(app, 0, 0)
        assert shown.endswith("…") and shown[:-1] in title
        table = app.screen.query_one("#conversations-table", DataTable)
        assert cell_len(shown) <= app.screen._title_width()  # type: ignore[attr-defined]
        assert cell(app, 0, 1) == "SmolLM2 135M Instru…"  # the name, cut to its 20 cells
        assert cell(app, 0, 3) == "just now"  # the last column is still on screen
        dialog = app.screen.query_one("#conversations-dialog")
        assert table.virtual_size.width <= dialog.content_region.width
    store.close()


def test_relative_time() -> None:
    now = 1_800_000_000.0
    assert relative_time(now - 5, now) == "just now"
    assert relative_time(now - 300, now) == "5 min ago"
    assert relative_time(now - 3 * 3600, now) == "3 h ago"
    assert relative_time(now - 86400 - 10, now) == "yesterday"
    assert relative_time(now - 4 * 86400, now) == "4 days ago"
    assert relative_time(now + 100, now) == "just now"  # clock skew


async def test_keys_can_be_remapped_by_binding_id(store: ConversationStore) -> None:
    app = PickerApp(store)
    app.set_keymap({"conversations.rename": "f2", "conversations.open": "o"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("tab", "f2")
        await pilot.pause()
        assert app.screen.query_one("#conversations-rename", Input).has_focus
        await pilot.press("escape", "o")
        await pilot.pause()
        assert app.results == [store.list_conversations()[0].id]


def test_snapshot_search_narrows_and_shows_the_match(  # type: ignore[no-untyped-def]
    snap_compare, store: ConversationStore
) -> None:
    """120x40: the "Conversations" dialog, search box holding "spag", one two-line row —
    "Dinner ideas" / smollm2 / 2 / just now, under it "How long do I boil spaghetti?" with
    "spaghetti" underlined — "1 match for “spag”" below, footer "tab Actions esc Close"."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        pilot.app.screen.query_one("#conversations-search", Input).cursor_blink = False
        await pilot.press(*"spag")
        await pilot.pause()

    assert snap_compare(PickerApp(store), terminal_size=(120, 40), run_before=run_before)


async def test_every_column_fits_at_80x24_with_a_short_model_name(tmp_path: Path) -> None:
    """A model stored by path shows its file name, and Msgs/Updated stay on screen at 80x24."""
    s = ConversationStore(tmp_path / "c.sqlite3")
    key = "gguf:/home/me/.cache/huggingface/hub/models--org--Q-GGUF/snapshots/0f3a/qwen-Q4_K_M.gguf"
    conv = s.create_conversation("Write a python function to add two numbers…", model_key=key)
    s.add_message(conv, "user", "hi")
    app = PickerApp(s)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert [cell(app, 0, c) for c in (1, 2, 3)] == ["qwen-Q4_K_M.gguf", "1", "just now"]
        assert cell(app, 0, 0).startswith("Write a python")
        table = app.screen.query_one("#conversations-table", DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
    s.close()
