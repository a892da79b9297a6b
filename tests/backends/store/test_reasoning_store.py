"""A reasoning answer's thinking: stored as it streams, apart from the answer, exported folded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from backends.base import StreamFinished
from backends.store import schema
from backends.store.conversations import ConversationStore, stats_from_finished


def test_thinking_is_stored_apart_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    cid = store.create_conversation("Sums")
    store.add_message(cid, "user", "2+2?")
    mid = store.add_message(cid, "assistant", "")
    store.set_message_reasoning(mid, "Two and two")
    store.set_message_reasoning(mid, "Two and two make four.")
    store.set_message_content(mid, "4")
    store.close()
    reopened = ConversationStore(path)
    answer = reopened.messages(cid)[-1]
    assert (answer.content, answer.reasoning) == ("4", "Two and two make four.")
    assert reopened.messages(cid)[0].reasoning == ""
    reopened.close()


def test_a_database_from_before_thinking_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(schema._MIGRATIONS[0] + schema._MIGRATIONS[1] + "PRAGMA user_version = 2;")
    db.execute("INSERT INTO conversations VALUES (1, 'Old', NULL, '', 0, 0)")
    db.execute(
        "INSERT INTO messages (conversation_id, role, content, created_at)"
        " VALUES (1, 'assistant', 'kept', 0)"
    )
    db.close()
    store = ConversationStore(path)
    [old] = store.messages(1)
    assert (old.content, old.reasoning) == ("kept", "")
    store.close()


def test_export_keeps_the_thinking_in_a_details_block(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    cid = store.create_conversation("Sums")
    mid = store.add_message(cid, "assistant", "4")
    store.set_message_reasoning(mid, "Two and two make four.")
    finished = StreamFinished("stop", 5, 9, 2.5, 3.0, first_thought_s=0.3, thinking_s=12.4)
    store.set_message_stats(mid, stats_from_finished(finished))
    md = store.export_markdown(cid)
    assert (
        "<details>\n<summary>Thinking · 12.4 s</summary>\n\nTwo and two make four.\n\n"
        "</details>\n\n4" in md
    )
    assert "first thought 0.30 s · first token 2.50 s" in md
    store.close()


def test_export_shows_tool_calls_and_results(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    cid = store.create_conversation("Files")
    answer = store.add_message(cid, "assistant", "")
    calls = [{"id": "c1", "name": "read_file", "arguments": '{"path": "a.txt"}', "source": "app"}]
    store.set_message_tools(answer, {"calls": calls})
    result = store.add_message(cid, "tool", "buy milk")
    store.set_message_tools(
        result, {"call_id": "c1", "name": "read_file", "source": "app", "outcome": "allowed once"}
    )
    md = store.export_markdown(cid)
    assert '_Calls `read_file` (app): `{"path": "a.txt"}`_' in md
    assert "### Tool · `read_file` · app · allowed once\n\n```text\nbuy milk\n```" in md
    assert store.messages(cid)[1].tools == {
        "call_id": "c1",
        "name": "read_file",
        "source": "app",
        "outcome": "allowed once",
    }
    store.close()
