"""Earlier answers to the same prompt, kept when the user regenerates.

The `messages` table always holds the answer shown (the one the next prompt builds on);
the others wait in `answer_versions`, keyed by the user message they answer. Flipping swaps
the shown answer's text, model and stats with a kept one, so the order of versions is the
order they were written and the transcript sent to a model is always what is on screen.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

Connect = Callable[[], AbstractContextManager[sqlite3.Connection]]


@dataclass(frozen=True)
class AnswerVersions:
    """(number of the shown answer, how many there are), both from 1."""

    shown: int
    total: int


class AnswerVersionStore:
    """The `versions` part of a ConversationStore; its calls take the store's lock."""

    def __init__(self, connect: Connect, transaction: Connect) -> None:
        self._connect = connect
        self._transaction = transaction

    def keep(self, message_id: int) -> None:
        """Keep an answer (about to be regenerated) as an earlier version of its prompt's."""
        with self._transaction() as db:
            row = _answer(db, message_id)
            if row is None:
                return
            conversation, prompt_id, content, model_key, stats, created = row
            # It goes back to its own place among the answers (the user may have flipped to
            # an earlier one before regenerating); the new answer is the last.
            position = _shown(db, prompt_id)
            db.execute(
                "UPDATE answer_versions SET position = position + 1"
                " WHERE prompt_id = ? AND position >= ?",
                (prompt_id, position),
            )
            db.execute("DELETE FROM answer_positions WHERE prompt_id = ?", (prompt_id,))
            db.execute(
                "INSERT INTO answer_versions (conversation_id, prompt_id, position, content,"
                " model_key, stats, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation, prompt_id, position, content, model_key, stats, created),
            )

    def of(self, message_id: int) -> AnswerVersions:
        """Where the shown answer `message_id` stands among its prompt's answers."""
        with self._connect() as db:
            row = _answer(db, message_id)
            if row is None:
                return AnswerVersions(1, 1)
            prompt_id = row[1]
            return AnswerVersions(_shown(db, prompt_id), _count(db, prompt_id) + 1)

    def flip(self, message_id: int, step: int) -> AnswerVersions | None:
        """Show the answer `step` places before (-1) or after (+1) the shown one; None at
        either end. The messages row takes the other version's text, model and stats."""
        with self._transaction() as db:
            row = _answer(db, message_id)
            if row is None:
                return None
            prompt_id = row[1]
            kept = _count(db, prompt_id)
            shown = _shown(db, prompt_id)
            wanted = shown + step
            if not 1 <= wanted <= kept + 1:
                return None
            # Versions hold every answer but the shown one, in order, with a gap at `shown`.
            slot = wanted if wanted < shown else wanted - 1
            version = db.execute(
                "SELECT id, content, model_key, stats FROM answer_versions"
                " WHERE prompt_id = ? ORDER BY position LIMIT 1 OFFSET ?",
                (prompt_id, slot - 1),
            ).fetchone()
            db.execute(
                "UPDATE answer_versions SET content = ?, model_key = ?, stats = ? WHERE id = ?",
                (row[2], row[3], row[4], version[0]),
            )
            db.execute(
                "UPDATE messages SET content = ?, model_key = ?, stats = ? WHERE id = ?",
                (version[1], version[2], version[3], message_id),
            )
            # The swapped-out answer took the kept one's slot: order by position stays the
            # order of writing once `shown` moves.
            _reorder(db, prompt_id, shown, wanted)
            db.execute(
                "INSERT INTO answer_positions (prompt_id, shown) VALUES (?, ?)"
                " ON CONFLICT (prompt_id) DO UPDATE SET shown = excluded.shown",
                (prompt_id, wanted),
            )
        return AnswerVersions(wanted, kept + 1)


def _answer(db: sqlite3.Connection, message_id: int) -> tuple | None:  # type: ignore[type-arg]
    """(conversation, id of the prompt it answers, content, model_key, stats, created_at)."""
    row = db.execute(
        "SELECT conversation_id, content, model_key, stats, created_at FROM messages"
        " WHERE id = ? AND role = 'assistant'",
        (message_id,),
    ).fetchone()
    if row is None:
        return None
    prompt = db.execute(
        "SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = ? AND id < ?"
        " AND role = 'user'",
        (row[0], message_id),
    ).fetchone()[0]
    return (row[0], prompt, row[1], row[2], row[3], row[4] or time.time())


def _count(db: sqlite3.Connection, prompt_id: int) -> int:
    return int(
        db.execute(
            "SELECT count(*) FROM answer_versions WHERE prompt_id = ?", (prompt_id,)
        ).fetchone()[0]
    )


def _shown(db: sqlite3.Connection, prompt_id: int) -> int:
    """The number of the answer shown (the newest unless the user flipped)."""
    row = db.execute(
        "SELECT shown FROM answer_positions WHERE prompt_id = ?", (prompt_id,)
    ).fetchone()
    return int(row[0]) if row else _count(db, prompt_id) + 1


def _reorder(db: sqlite3.Connection, prompt_id: int, shown: int, wanted: int) -> None:
    """Positions stay 1..n in writing order with the shown answer's number left out."""
    rows: Iterator[tuple[int]] = db.execute(
        "SELECT id FROM answer_versions WHERE prompt_id = ? ORDER BY position", (prompt_id,)
    )
    ids = [r[0] for r in rows]
    # Before the flip the list skipped `shown`; after, it skips `wanted`: the swapped row
    # (now holding answer `shown`) moves to where `shown` belongs.
    slot = wanted if wanted < shown else wanted - 1
    moved = ids.pop(slot - 1)
    target = shown if shown < wanted else shown - 1
    ids.insert(target - 1, moved)
    for position, version_id in enumerate(ids, start=1):
        db.execute("UPDATE answer_versions SET position = ? WHERE id = ?", (position, version_id))
