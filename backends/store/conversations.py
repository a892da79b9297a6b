"""Conversations persisted in SQLite, written as they happen.

Every write is its own committed transaction (autocommit) in WAL mode, so a crash or
``kill -9`` in the middle of an answer loses nothing that was already written: the chat
screen calls :meth:`ConversationStore.set_message_content` with the text so far while a
reply streams. ``synchronous=NORMAL`` keeps each commit cheap (no fsync per write); in WAL
mode that survives the process dying, only an OS crash or power cut could lose the last
commits.

One connection is shared by every thread behind a lock: the streaming worker writes while the
UI thread reads. Search is SQLite FTS5 over titles and message contents (a LIKE scan where the
local SQLite has no FTS5).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backends.errors import StorageError
from backends.store import chat_state
from backends.store.json_columns import dump_names, load_json_object, load_names
from backends.store.records import (
    DEFAULT_TITLE,
    ConversationSummary,
    StoredMessage,
    stats_from_finished,
    title_from_prompt,
)
from backends.store.schema import SCHEMA_VERSION, migrate
from backends.store.search import SearchHit, fts_query

if TYPE_CHECKING:
    from backends.store.answer_versions import AnswerVersionStore
    from backends.store.attachments import AttachmentStore
    from backends.store.tool_switches import ToolSwitchStore

__all__ = [
    "ConversationStore",
    "ConversationSummary",
    "SearchHit",
    "StoredMessage",
    "fts_query",
    "stats_from_finished",
    "title_from_prompt",
]


class ConversationStore:
    """All conversations of one user; safe to call from any thread."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(db_path)
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(
                self.path, timeout=5.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StorageError(
                f"Could not open the conversation database {self.path} ({exc}). "
                "Check that the folder is writable."
            ) from exc
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self.has_fts = migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StorageError(
                f"The conversation database {self.path} is damaged or not a database ({exc}). "
                "Move it aside and restart to begin a fresh history."
            ) from exc
        except StorageError:
            conn.close()
            raise
        self._db: sqlite3.Connection | None = conn

    # The parts the first frame does not use are made (and their modules imported) on first
    # use: the app opens the store before its first frame.
    @cached_property
    def attachments(self) -> AttachmentStore:
        from backends.store.attachments import AttachmentStore

        return AttachmentStore(self.path.parent / "attachments")

    @cached_property
    def versions(self) -> AnswerVersionStore:
        from backends.store.answer_versions import AnswerVersionStore

        return AnswerVersionStore(self._conn, self._transaction)

    @cached_property
    def tool_switches(self) -> ToolSwitchStore:
        from backends.store.tool_switches import ToolSwitchStore

        return ToolSwitchStore(self._conn)

    @classmethod
    def open_default(cls) -> ConversationStore:
        from backends.paths import data_dir

        return cls(data_dir() / "conversations.sqlite3")

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db is None:
                raise StorageError(
                    "The conversation store was already closed. Restart the app.",
                    title="Conversations unavailable",
                )
            try:
                yield self._db
            except sqlite3.OperationalError as exc:
                raise StorageError(
                    f"Could not read or write {self.path} ({exc}). "
                    "Check free disk space and that no other program locks the file."
                ) from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Several statements committed together (or not at all)."""
        with self._conn() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- conversations -------------------------------------------------------------------

    def create_conversation(
        self, title: str = DEFAULT_TITLE, *, model_key: str | None = None, system_prompt: str = ""
    ) -> int:
        now = time.time()
        with self._conn() as db:
            cur = db.execute(
                "INSERT INTO conversations"
                " (title, model_key, system_prompt, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (title.strip() or DEFAULT_TITLE, model_key, system_prompt, now, now),
            )
            return _rowid(cur)

    _SUMMARY_SQL = (
        "SELECT c.id, c.title, c.model_key, c.system_prompt, c.created_at, c.updated_at,"
        " (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)"
        " FROM conversations c"
    )

    def list_conversations(self, limit: int = 500) -> list[ConversationSummary]:
        """Most recently updated first."""
        with self._conn() as db:
            rows = db.execute(
                f"{self._SUMMARY_SQL} ORDER BY c.updated_at DESC, c.id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [ConversationSummary(*row) for row in rows]

    def get_conversation(self, conversation_id: int) -> ConversationSummary | None:
        with self._conn() as db:
            row = db.execute(f"{self._SUMMARY_SQL} WHERE c.id = ?", (conversation_id,)).fetchone()
        return ConversationSummary(*row) if row else None

    def rename(self, conversation_id: int, title: str) -> None:
        with self._conn() as db:
            db.execute(
                "UPDATE conversations SET title = ? WHERE id = ?",
                (title.strip() or DEFAULT_TITLE, conversation_id),
            )

    def set_system_prompt(self, conversation_id: int, text: str) -> None:
        """The prompt from the next message on; the export shows where each one began."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT system_prompt FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if row is None or row[0] == text:
                return
            chat_state.record_system_prompt(db, conversation_id, row[0], text)
            db.execute(
                "UPDATE conversations SET system_prompt = ? WHERE id = ?", (text, conversation_id)
            )

    def system_prompt_changes(self, conversation_id: int) -> list[chat_state.SystemPromptChange]:
        with self._conn() as db:
            return chat_state.system_prompt_changes(db, conversation_id)

    # -- what the chat keeps between sessions --------------------------------------------

    def draft(self, conversation_id: int | None) -> str:
        """The unsent prompt text of a conversation (None: the chat not saved yet)."""
        with self._conn() as db:
            return chat_state.read_draft(db, conversation_id or chat_state.NEW_CHAT)

    def set_draft(self, conversation_id: int | None, text: str) -> None:
        with self._conn() as db:
            chat_state.write_draft(db, conversation_id or chat_state.NEW_CHAT, text)

    def state(self, name: str) -> str | None:
        """A small named value the chat keeps across restarts (the last open chat)."""
        with self._conn() as db:
            return chat_state.read_value(db, name)

    def set_state(self, name: str, value: str | None) -> None:
        with self._conn() as db:
            chat_state.write_value(db, name, value)

    def set_model(self, conversation_id: int, model_key: str | None) -> None:
        with self._conn() as db:
            db.execute(
                "UPDATE conversations SET model_key = ? WHERE id = ?", (model_key, conversation_id)
            )

    def delete(self, conversation_id: int) -> None:
        """The conversation and all its messages (foreign-key cascade)."""
        with self._conn() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # -- messages ------------------------------------------------------------------------

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        """In the order they were added."""
        with self._conn() as db:
            rows = db.execute(
                "SELECT id, conversation_id, role, content, created_at, model_key, stats,"
                " images, reasoning, tools FROM messages WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        return [
            StoredMessage(
                id=row[0],
                conversation_id=row[1],
                role=row[2],
                content=row[3],
                created_at=row[4],
                model_key=row[5],
                stats=load_json_object(row[6]),
                images=self.attachments.paths(load_names(row[7])),
                reasoning=row[8] or "",
                tools=load_json_object(row[9]),
            )
            for row in rows
        ]

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        model_key: str | None = None,
        images: Sequence[Path] = (),
    ) -> int:
        """Append a message (an assistant reply may start empty) and bump the conversation.

        `images` are copied into the attachments folder first, so the conversation keeps
        them when the originals move; AttachmentError if one cannot be read or copied.
        """
        names = [self.attachments.add(Path(p)) for p in images]
        now = time.time()
        try:
            with self._transaction() as db:
                cur = db.execute(
                    "INSERT INTO messages (conversation_id, role, content, created_at, model_key,"
                    " images) VALUES (?, ?, ?, ?, ?, ?)",
                    (conversation_id, role, content, now, model_key, dump_names(names)),
                )
                db.execute(
                    "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
                )
                return _rowid(cur)
        except sqlite3.IntegrityError as exc:
            raise StorageError(
                f"Conversation {conversation_id} no longer exists, so the message was not saved. "
                "Start a new chat.",
                title="Conversation not found",
            ) from exc

    def set_message_content(self, message_id: int, content: str) -> None:
        """Replace a message's text; called repeatedly while an answer streams.

        A message deleted meanwhile (its conversation deleted mid-answer) is silently ignored,
        so a streaming worker never fails because of it.
        """
        with self._conn() as db:
            db.execute("UPDATE messages SET content = ? WHERE id = ?", (content, message_id))

    def set_message_reasoning(self, message_id: int, reasoning: str) -> None:
        """Replace an answer's thinking so far; called repeatedly while it streams."""
        with self._conn() as db:
            db.execute("UPDATE messages SET reasoning = ? WHERE id = ?", (reasoning, message_id))

    def set_message_tools(self, message_id: int, tools: dict[str, Any]) -> None:
        """An answer's tool calls, or what a "tool" message answers (see StoredMessage)."""
        with self._conn() as db:
            db.execute(
                "UPDATE messages SET tools = ? WHERE id = ?",
                (json.dumps(tools, default=str), message_id),
            )

    def set_message_stats(self, message_id: int, stats: dict[str, Any]) -> None:
        """Generation figures for a reply (tokens, tok/s, finish reason...), any JSON values."""
        with self._conn() as db:
            db.execute(
                "UPDATE messages SET stats = ? WHERE id = ?",
                (json.dumps(stats, default=str), message_id),
            )

    def delete_messages_from(self, conversation_id: int, message_id: int) -> None:
        """Delete this message and every later one (regenerate, edit-and-resend)."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND id >= ?",
                (conversation_id, message_id),
            )
            db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?",
                (time.time(), conversation_id),
            )

    # -- search and export ---------------------------------------------------------------

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Conversations whose title or messages match every word of ``query``.

        At most one hit per conversation (a title match, else its best-ranked message), best
        first. Words match as prefixes while the last one is being typed. Never raises on odd
        input: FTS syntax in ``query`` is treated as plain words.
        """
        from backends.store.search import TOKEN, fts_search, like_search

        if self.has_fts:
            match = fts_query(query)
            if match is None:
                return []
            with self._conn() as db:
                return fts_search(db, match, limit)
        words = TOKEN.findall(query)
        if not words:
            return []
        with self._conn() as db:
            return like_search(db, words, limit)

    def export_markdown(
        self, conversation_id: int, model_names: Mapping[str, str] | None = None
    ) -> str:
        """The conversation as Markdown; `model_names` maps model keys to the names shown."""
        from backends.store.export import render_markdown

        conversation = self.get_conversation(conversation_id)
        if conversation is None:
            raise StorageError(
                f"Conversation {conversation_id} no longer exists, so there is nothing to export.",
                title="Conversation not found",
            )
        return render_markdown(
            conversation,
            self.messages(conversation_id),
            self.system_prompt_changes(conversation_id),
            model_names,
        )

    def export_to_file(
        self,
        conversation_id: int,
        directory: Path | None = None,
        model_names: Mapping[str, str] | None = None,
    ) -> Path:
        """Write the Markdown export to a new file (never overwrites) and return its path."""
        from backends.store.export import export_filename, write_new_file

        text = self.export_markdown(conversation_id, model_names)
        conversation = self.get_conversation(conversation_id)
        assert conversation is not None
        if directory is None:
            from backends.paths import data_dir

            directory = data_dir() / "exports"
        return write_new_file(directory, export_filename(conversation.title, conversation_id), text)

    def close(self) -> None:
        """Idempotent. Every write is already committed, so nothing is lost."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _rowid(cur: sqlite3.Cursor) -> int:
    assert cur.lastrowid is not None
    return cur.lastrowid
