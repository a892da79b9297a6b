"""The tools a conversation switched off are kept with it (schema 5), and a database from
before the tools panel is migrated with every tool on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from backends.store import schema
from backends.store.conversations import ConversationStore


def test_switches_are_kept_per_conversation_and_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    first, second = store.create_conversation("One"), store.create_conversation("Two")
    store.tool_switches.switch(first, "app", "read_file", on=False)
    store.tool_switches.switch(first, "notes", "", on=False)  # a whole MCP server
    store.tool_switches.switch(first, "notes", "", on=False)  # twice is once
    assert store.tool_switches.off(second) == frozenset()
    store.close()
    store = ConversationStore(path)
    assert store.tool_switches.off(first) == {("app", "read_file"), ("notes", "")}
    store.tool_switches.switch(first, "app", "read_file", on=True)
    assert store.tool_switches.off(first) == {("notes", "")}
    store.delete(first)
    assert store.tool_switches.off(first) == frozenset()
    store.close()


def test_a_database_from_before_the_tools_panel_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("".join(schema._MIGRATIONS[:4]) + "PRAGMA user_version = 4;")
    db.execute("INSERT INTO conversations VALUES (1, 'Old', NULL, '', 0, 0)")
    db.close()
    store = ConversationStore(path)
    assert store.schema_version == 5
    assert store.tool_switches.off(1) == frozenset()  # everything on
    store.tool_switches.switch(1, "app", "current_datetime", on=False)
    assert store.tool_switches.off(1) == {("app", "current_datetime")}
    store.close()
    version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert version == 5
