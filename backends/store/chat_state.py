"""What the chat keeps besides messages: drafts, system prompt changes, small named values.

Plain functions over the store's connection (the caller holds its lock): the
`ConversationStore` methods of the same names call them.

- A draft is the unsent text of one conversation's prompt; conversation 0 is the chat not
  saved yet (its first send creates the conversation). An empty draft is no row.
- A system prompt change is kept with the id of the last message before it, so an export
  shows each prompt where it began to apply, not the newest as if it applied throughout.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

NEW_CHAT = 0  # the draft key of the chat that has no conversation yet


@dataclass(frozen=True)
class SystemPromptChange:
    after_message_id: int  # it applies to the messages after this one (0: from the start)
    text: str


def read_draft(db: sqlite3.Connection, conversation_id: int) -> str:
    row = db.execute(
        "SELECT text FROM drafts WHERE conversation_id = ?", (conversation_id,)
    ).fetchone()
    return str(row[0]) if row else ""


def write_draft(db: sqlite3.Connection, conversation_id: int, text: str) -> None:
    if text.strip():
        # A conversation deleted meanwhile keeps no draft (0, the new chat, always may).
        db.execute(
            "INSERT INTO drafts (conversation_id, text) SELECT ?, ?"
            " WHERE ? = 0 OR EXISTS (SELECT 1 FROM conversations WHERE id = ?)"
            " ON CONFLICT (conversation_id) DO UPDATE SET text = excluded.text",
            (conversation_id, text, conversation_id, conversation_id),
        )
    else:
        db.execute("DELETE FROM drafts WHERE conversation_id = ?", (conversation_id,))


def record_system_prompt(db: sqlite3.Connection, conversation_id: int, old: str, new: str) -> None:
    """Keep `new` as applying from the next message; the first change also keeps `old` as
    the prompt the conversation began with."""
    last = db.execute(
        "SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = ?", (conversation_id,)
    ).fetchone()[0]
    known = db.execute(
        "SELECT 1 FROM system_prompts WHERE conversation_id = ? LIMIT 1", (conversation_id,)
    ).fetchone()
    if not known:
        db.execute(
            "INSERT INTO system_prompts (conversation_id, after_message_id, text) VALUES (?, 0, ?)",
            (conversation_id, old),
        )
    db.execute(
        "INSERT INTO system_prompts (conversation_id, after_message_id, text) VALUES (?, ?, ?)",
        (conversation_id, last, new),
    )


def system_prompt_changes(db: sqlite3.Connection, conversation_id: int) -> list[SystemPromptChange]:
    """Every system prompt the conversation had, oldest first; empty when it never changed."""
    rows = db.execute(
        "SELECT after_message_id, text FROM system_prompts WHERE conversation_id = ? ORDER BY id",
        (conversation_id,),
    ).fetchall()
    return [SystemPromptChange(int(row[0]), str(row[1])) for row in rows]


def read_value(db: sqlite3.Connection, name: str) -> str | None:
    row = db.execute("SELECT value FROM chat_state WHERE name = ?", (name,)).fetchone()
    return str(row[0]) if row else None


def write_value(db: sqlite3.Connection, name: str, value: str | None) -> None:
    if value is None:
        db.execute("DELETE FROM chat_state WHERE name = ?", (name,))
    else:
        db.execute(
            "INSERT INTO chat_state (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
