"""What the conversation store keeps and hands out: a conversation's summary, its stored
messages, and how their values are made (a title from the first prompt, a reply's figures).

Plain frozen values, read by the store (conversations.py), the Markdown export (export.py) and
the TUI alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backends.base import StreamFinished


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    model_key: str | None
    system_prompt: str
    created_at: float
    updated_at: float
    message_count: int


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: int
    role: str  # "system" | "user" | "assistant"
    content: str
    created_at: float
    model_key: str | None
    stats: dict[str, Any] | None
    images: tuple[str, ...] = ()  # absolute paths of the stored copies
    reasoning: str = ""  # the model's thinking before its answer (not part of the history)
    # An answer's tool calls {"calls": [{"id", "name", "arguments", "source"}]}; on a "tool"
    # message the call it answers {"call_id", "name", "source", "arguments", "is_error", ...}.
    tools: dict[str, Any] | None = None


DEFAULT_TITLE = "New chat"
_TITLE_MAX = 48


def title_from_prompt(text: str) -> str:
    """A title for a new chat from its first prompt: the first non-empty line, at most ~48 chars."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if not line:
        return DEFAULT_TITLE
    if len(line) <= _TITLE_MAX:
        return line
    cut = line[: _TITLE_MAX - 1]
    space = cut.rfind(" ")
    if space >= _TITLE_MAX // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def stats_from_finished(finished: StreamFinished) -> dict[str, Any]:
    """The figures of a finished reply, as :meth:`ConversationStore.set_message_stats` keeps them
    and the Markdown export shows them (tokens, tok/s, time to first token, finish reason)."""
    return {**dataclasses.asdict(finished), "tokens_per_s": finished.tokens_per_s}
