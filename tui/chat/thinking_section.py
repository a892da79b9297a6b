"""A reasoning model's thinking above its answer: dimmed, open while the model thinks, folded
when the answer starts ("Thinking · 12.4 s"), Enter or a click opens it again.

The text is literal (no Markdown): thoughts are long, half-formed and rarely worth the
parser's CPU while the engine needs it.
"""

from __future__ import annotations

import time
from typing import Any

from textual.content import Content
from textual.widgets import Collapsible, Static

from backends.store.export import thinking_title


class ThinkingSection(Collapsible):
    """The thinking of one answer; `append` while it streams, `fold` when the answer starts."""

    DEFAULT_CSS = """
    ThinkingSection {
        background: transparent;
        border-top: none;
        padding: 0;
        margin: 0 0 1 0;
        color: $text-muted;
        & > Contents { padding: 0 0 0 2; }
        & CollapsibleTitle { padding: 0; color: $text-muted; text-style: italic; }
        & .thought { color: $text-muted; text-style: italic; }
    }
    """

    def __init__(self, text: str = "", *, stats: dict[str, Any] | None = None) -> None:
        streaming = stats is None
        super().__init__(
            Static(Content(text), classes="thought", markup=False),
            title="Thinking…" if streaming else thinking_title(stats),
            collapsed=not streaming,
        )
        self.text = text
        self._started = time.monotonic() if streaming else None

    async def append(self, text: str) -> None:
        self.text += text
        self.query_one(".thought", Static).update(Content(self.text))

    def fold(self) -> None:
        """The answer started: fold the thinking away and say how long it took."""
        if self._started is not None:
            self.title = f"Thinking · {time.monotonic() - self._started:.1f} s"
            self._started = None
        self.collapsed = True

    def set_stats(self, stats: dict[str, Any]) -> None:
        """The engine's own figures, once the answer ended (an answer that never left its
        thinking is folded now too)."""
        self._started = None
        self.title = thinking_title(stats)
        self.collapsed = True
