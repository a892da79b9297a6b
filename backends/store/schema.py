"""The conversation database's schema and its migrations, versioned by PRAGMA user_version.

To change the schema, append a script to ``_MIGRATIONS``; never edit a released one. A database
is brought up to ``SCHEMA_VERSION`` one script at a time, each in its own transaction.
"""

from __future__ import annotations

import sqlite3

from backends.errors import StorageError

_MIGRATIONS: list[str] = [
    # 1: conversations and their messages
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        model_key TEXT,
        system_prompt TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX conversations_by_update ON conversations (updated_at DESC);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        created_at REAL NOT NULL,
        model_key TEXT,
        stats TEXT
    );
    CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
    """,
    # 2: images attached to a message: a JSON list of file names in the attachments folder
    """
    ALTER TABLE messages ADD COLUMN images TEXT;
    """,
    # 3: what the chat keeps between sessions: each conversation's unsent draft (0 is the
    # chat not saved yet), the system prompts a conversation had and from which message,
    # small named values (the last open chat, the panel's parameters) and the earlier
    # answers a regenerate replaced (answer_versions.py)
    """
    CREATE TABLE drafts (
        conversation_id INTEGER PRIMARY KEY,
        text TEXT NOT NULL
    );
    CREATE TRIGGER drafts_follow_deletes AFTER DELETE ON conversations BEGIN
        DELETE FROM drafts WHERE conversation_id = old.id;
    END;
    CREATE TABLE system_prompts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        after_message_id INTEGER NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX system_prompts_by_conversation ON system_prompts (conversation_id, id);
    CREATE TABLE chat_state (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE answer_versions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        prompt_id INTEGER NOT NULL,
        position INTEGER NOT NULL,
        content TEXT NOT NULL,
        model_key TEXT,
        stats TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX answer_versions_by_prompt ON answer_versions (prompt_id, position);
    CREATE TABLE answer_positions (
        prompt_id INTEGER PRIMARY KEY,
        shown INTEGER NOT NULL
    );
    CREATE TRIGGER answer_versions_follow_prompts AFTER DELETE ON messages
    WHEN old.role = 'user' BEGIN
        DELETE FROM answer_versions WHERE prompt_id = old.id;
        DELETE FROM answer_positions WHERE prompt_id = old.id;
    END;
    """,
    # 4: a reasoning model's thinking before its answer (shown apart, never sent back), and
    # tool calls: the calls an answer made, or on a "tool" message the call it answers (JSON)
    """
    ALTER TABLE messages ADD COLUMN reasoning TEXT;
    ALTER TABLE messages ADD COLUMN tools TEXT;
    """,
    # 5: the tools a conversation switched off in its tools panel (everything else is on):
    # one tool of a source (the app, an MCP server), or a whole source when `tool` is ''
    """
    CREATE TABLE tools_off (
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        tool TEXT NOT NULL,
        PRIMARY KEY (conversation_id, source, tool)
    );
    """,
]

SCHEMA_VERSION = len(_MIGRATIONS)

# External-content FTS5 indexes kept in step by triggers. Not a numbered migration: a SQLite
# built without FTS5 still gets a working store (search falls back to LIKE), and the index is
# added the first time a build with FTS5 opens the file.
_FTS = """
CREATE VIRTUAL TABLE messages_fts USING fts5 (content, content='messages', content_rowid='id');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE VIRTUAL TABLE titles_fts USING fts5 (title, content='conversations', content_rowid='id');
CREATE TRIGGER titles_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO titles_fts (rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER titles_fts_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title) VALUES ('delete', old.id, old.title);
END;
CREATE TRIGGER titles_fts_update AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title) VALUES ('delete', old.id, old.title);
    INSERT INTO titles_fts (rowid, title) VALUES (new.id, new.title);
END;
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
INSERT INTO titles_fts (titles_fts) VALUES ('rebuild');
"""


def migrate(db: sqlite3.Connection) -> bool:
    """Bring ``db`` (autocommit mode) up to date; True when full-text search is available."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"The conversation database was written by a newer localai-tui (schema {version}, "
            f"this version knows {SCHEMA_VERSION}). Update localai-tui to open it.",
            title="Conversation history is newer than this app",
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        _run(db, _MIGRATIONS[number - 1] + f"\nPRAGMA user_version = {number};")
    has_index = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'"
    ).fetchone()
    if has_index:
        return True
    try:
        _run(db, _FTS)
    except sqlite3.OperationalError as exc:
        if "fts5" in str(exc):
            return False
        raise
    return True


def _run(db: sqlite3.Connection, script: str) -> None:
    """One script in one transaction: all of it or none of it."""
    try:
        db.executescript("BEGIN IMMEDIATE;\n" + script + "\nCOMMIT;")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
