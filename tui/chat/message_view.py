"""One chat message: who said it, its body (literal for the user, Markdown streamed for
answers), and its stats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Label, Static

from tui.human_units import plural

if TYPE_CHECKING:
    from textual.widgets.markdown import MarkdownStream

FINISH_NOTES = {
    "cancelled": "stopped",
    "length": "hit the token limit",
    "context": "context window full",
}


def format_stats(stats: dict[str, Any]) -> str:
    """ "TTFT 0.21 s · 74.3 tok/s · 31 → 212 tokens · stopped" (parts that are known).

    A failed answer's stats are {"finish_reason": "error", "error": "Title: what to do"}.
    """
    if stats.get("finish_reason") == "error":
        return str(stats.get("error") or "The answer failed.")
    parts: list[str] = []
    ttft = stats.get("ttft_s")
    if ttft is not None:
        parts.append(f"TTFT {ttft:.2f} s")
    rate = stats.get("tokens_per_s")
    if rate is not None:
        parts.append(f"{rate:.1f} tok/s")
    prompt, completion = stats.get("prompt_tokens"), stats.get("completion_tokens")
    if completion is not None:
        tokens = plural(int(completion), "token")
        parts.append(f"{prompt} → {tokens}" if prompt is not None else tokens)
    note = FINISH_NOTES.get(str(stats.get("finish_reason")))
    if note:
        parts.append(note)
    return " · ".join(parts)


def import_renderer() -> None:
    """Import what the first message needs (markdown-it, pygments: ~50–100 ms) ahead of it.

    Run in a thread after the first frame; otherwise the first answer pays it between
    Enter and its first token.
    """
    from textual.widgets import Markdown  # noqa: F401

    import tui.chat.answer_stream  # noqa: F401


class MessageView(Vertical):
    """A message in the list. User messages can be focused and edited (Enter or e)."""

    BINDINGS = [
        Binding("enter,e", "edit", "Edit & resend", id="message.edit"),
    ]

    @dataclass
    class EditRequested(Message):
        """The user wants to edit this (user) message and resend it."""

        view: MessageView

    def __init__(
        self,
        role: str,
        content: str = "",
        *,
        message_id: int | None = None,
        title: str | None = None,
        stats: dict[str, Any] | None = None,
        images: Sequence[str] = (),
    ) -> None:
        super().__init__(classes=f"message -{role}")
        self.role = role
        self.content = content
        self.message_id = message_id
        self._title = title or ("You" if role == "user" else "Assistant")
        self._stats = stats
        self.can_focus = role == "user"
        self._stream: MarkdownStream | None = None
        self.images = tuple(images)  # stored copies (absolute paths)

    def compose(self) -> ComposeResult:
        if self.role == "picture":  # a picture made with /image (tui/chat/picture_message.py)
            from tui.chat.picture_message import PictureBody

            model = (self._stats or {}).get("model") or self._title  # as it was when made
            yield Label(f"Picture · {model}", classes="role")
            yield PictureBody(self.content, self.images[0] if self.images else None, self._stats)
            yield Static("", classes="stats")
            return
        yield Label(self._title, classes="role")
        if self.images:
            from tui.chat.message_images import MessageImages

            yield MessageImages(self.images)
        if self.role == "user":
            # What the user typed, as typed: no Markdown, no markup, line breaks kept.
            yield Static(Content(self.content), classes="body")
        else:
            # Imported here: Markdown pulls in pygments (~50 ms), not needed for the first
            # frame.
            from textual.widgets import Markdown

            from tui.chat.answer_markdown import answer_parser

            yield Markdown(self.content, classes="body", parser_factory=answer_parser)
        yield Static(
            format_stats(self._stats) if self._stats else "", classes="stats", markup=False
        )

    def on_mount(self) -> None:
        self.query_one(".stats").display = bool(self._stats) and self.role != "picture"
        reason = (self._stats or {}).get("finish_reason")
        self.set_class(reason == "cancelled", "-stopped")
        self.set_class(reason == "error", "-error")

    def start_stream(self) -> None:
        """Render an answer that is still arriving incrementally (not a re-parse per chunk)."""
        from textual.widgets import Markdown

        from tui.chat.answer_stream import AnswerStream

        self.add_class("-streaming")
        stream = AnswerStream(self.query_one(Markdown))
        stream.start()
        self._stream = stream

    async def append(self, text: str) -> None:
        self.content += text
        if self._stream is not None:
            await self._stream.write(text)

    async def end_stream(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self.remove_class("-streaming")

    def set_stats(self, stats: dict[str, Any]) -> None:
        self._stats = stats
        stats_line = self.query_one(".stats", Static)
        stats_line.update(format_stats(stats))
        stats_line.display = True
        self.set_class(stats.get("finish_reason") == "cancelled", "-stopped")

    def set_error(self, text: str) -> None:
        stats_line = self.query_one(".stats", Static)
        # Literal: error texts quote native logs ("GGML_ASSERT(buf[/0] ...)"), not markup.
        stats_line.update(Content(text))
        stats_line.display = True
        self.add_class("-error")

    def action_edit(self) -> None:
        if self.role == "user":
            self.post_message(self.EditRequested(self))
