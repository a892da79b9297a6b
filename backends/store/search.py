"""Full-text search over stored conversations, safe for whatever the user types.

SQLite FTS5 over titles and message contents (indexes kept by triggers, see store_schema.py),
or a LIKE scan where the local SQLite was built without FTS5.
"""

from __future__ import annotations

import re
import sqlite3

import msgspec


class SearchHit(msgspec.Struct, frozen=True):
    """The best match in one conversation: its title (message_id None) or one message.

    A Struct: defined ~50x faster than a frozen dataclass, before the first frame."""

    conversation_id: int
    title: str
    message_id: int | None
    snippet: str  # plain text around the match, "…" where it was cut


# unicode61 (FTS5's default tokenizer) splits on anything that is not a letter or a digit.
TOKEN = re.compile(r"[^\W_]+")


def fts_query(text: str) -> str | None:
    """User-typed text as a safe FTS5 query: every word quoted, the last one a prefix.

    Quoting turns operators and punctuation (``"foo AND (``) into plain words, so no input
    can raise a syntax error. None when the text has no words to look for.
    """
    words = TOKEN.findall(text)
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    if text[-1:].isalnum():  # still typing this word: match it as a prefix
        quoted[-1] += "*"
    return " ".join(quoted)


_SNIPPET_TOKENS = 12


def fts_search(db: sqlite3.Connection, match: str, limit: int) -> list[SearchHit]:
    """FTS5 search; ``match`` comes from :func:`fts_query`."""
    # Titles first (a title match says the most about a conversation), then the best-ranked
    # message of every other conversation. Ranks only first; snippets only for the winners.
    hits: dict[int, SearchHit] = {}
    for conv_id, title in db.execute(
        "SELECT c.id, c.title FROM titles_fts JOIN conversations c ON c.id = titles_fts.rowid"
        " WHERE titles_fts MATCH ? ORDER BY rank LIMIT ?",
        (match, limit),
    ):
        hits[conv_id] = SearchHit(conv_id, title, None, title)
    best: dict[int, int] = {}
    for msg_id, conv_id in db.execute(
        "SELECT m.id, m.conversation_id FROM messages_fts"
        " JOIN messages m ON m.id = messages_fts.rowid"
        " WHERE messages_fts MATCH ? ORDER BY rank",
        (match,),
    ):
        if conv_id not in hits and conv_id not in best:
            best[conv_id] = msg_id
            if len(hits) + len(best) >= limit:
                break
    if best:
        ids = list(best.values())
        marks = ",".join("?" * len(ids))
        rows = db.execute(
            f"SELECT messages_fts.rowid, c.id, c.title,"
            f" snippet(messages_fts, 0, '', '', '…', {_SNIPPET_TOKENS})"
            f" FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
            f" JOIN conversations c ON c.id = m.conversation_id"
            f" WHERE messages_fts MATCH ? AND messages_fts.rowid IN ({marks})",
            (match, *ids),
        ).fetchall()
        by_msg = {row[0]: row for row in rows}
        for conv_id, msg_id in best.items():
            if msg_id in by_msg:
                _, _, title, snip = by_msg[msg_id]
                hits[conv_id] = SearchHit(conv_id, title, msg_id, _one_line(snip))
    return list(hits.values())[:limit]


def like_search(db: sqlite3.Connection, words: list[str], limit: int) -> list[SearchHit]:
    """Fallback for SQLite builds without FTS5: every word as a case-insensitive substring."""
    hits: dict[int, SearchHit] = {}
    patterns = [
        "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for w in words
    ]
    title_where = " AND ".join(["title LIKE ? ESCAPE '\\'"] * len(words))
    for conv_id, title in db.execute(
        f"SELECT id, title FROM conversations WHERE {title_where} ORDER BY updated_at DESC",
        patterns,
    ):
        hits[conv_id] = SearchHit(conv_id, title, None, title)
    msg_where = " AND ".join(["m.content LIKE ? ESCAPE '\\'"] * len(words))
    for msg_id, conv_id, title, content in db.execute(
        "SELECT m.id, c.id, c.title, m.content FROM messages m"
        f" JOIN conversations c ON c.id = m.conversation_id WHERE {msg_where}"
        " ORDER BY c.updated_at DESC, m.id",
        patterns,
    ):
        if conv_id not in hits:
            hits[conv_id] = SearchHit(conv_id, title, msg_id, _around(content, words[0]))
        if len(hits) >= limit:
            break
    return list(hits.values())[:limit]


def _around(text: str, word: str, width: int = 80) -> str:
    at = max(text.lower().find(word.lower()), 0)
    start = max(at - width // 3, 0)
    piece = text[start : start + width]
    return _one_line(("…" if start else "") + piece + ("…" if start + width < len(text) else ""))


def _one_line(text: str) -> str:
    return " ".join(text.split())
