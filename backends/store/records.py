"""What the conversation store hands out: a conversation's summary and its stored messages.

Plain frozen values, read by the store (conversations.py), the Markdown export (export.py) and
the TUI alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
