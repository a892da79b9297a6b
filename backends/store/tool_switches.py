"""Which tools a conversation switched off (its tools panel), kept with the conversation.

Everything is on unless switched off: a row is one tool of a source (the app, an MCP
server), or the whole source when `tool` is ''. A new tool or server is therefore offered
in every conversation until the user switches it off there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager

Connect = Callable[[], AbstractContextManager[sqlite3.Connection]]

WHOLE_SOURCE = ""  # the `tool` of a row that switches a whole source off


class ToolSwitchStore:
    """The `tool_switches` part of a ConversationStore; its calls take the store's lock."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    def off(self, conversation_id: int) -> frozenset[tuple[str, str]]:
        """(source, tool) pairs switched off; tool '' is the whole source."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT source, tool FROM tools_off WHERE conversation_id = ?", (conversation_id,)
            ).fetchall()
        return frozenset((str(source), str(tool)) for source, tool in rows)

    def switch(self, conversation_id: int, source: str, tool: str, on: bool) -> None:
        """Switch one tool of `source` (or, with tool '', the whole source) on or off."""
        with self._connect() as db:
            if on:
                db.execute(
                    "DELETE FROM tools_off WHERE conversation_id = ? AND source = ? AND tool = ?",
                    (conversation_id, source, tool),
                )
            else:
                db.execute(
                    "INSERT OR IGNORE INTO tools_off (conversation_id, source, tool)"
                    " VALUES (?, ?, ?)",
                    (conversation_id, source, tool),
                )
