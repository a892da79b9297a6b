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
from tui.widgets.sized_by_layout import SizedByLayout

if TYPE_CHECKING:
    from textual.widgets.markdown import MarkdownStream

    from backends.store.answer_versions import AnswerVersions


def format_stats(stats: dict[str, Any]) -> str:
    """ "TTFT 0.21 s · 74.3 tok/s · 31 → 212 tokens · stopped" (parts that are known).

    A failed answer's stats are {"finish_reason": "error", "error": "Title: what to do"}.
    """
    if stats.get("finish_reason") == "error":
        return str(stats.get("error") or "The answer failed.")
    parts: list[str] = []
    thought = stats.get("first_thought_s")
    if thought is not None:
        parts.append(f"first thought {thought:.2f} s")
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
    from backends.store.export import FINISH_NOTES  # not needed for the first frame

    note = FINISH_NOTES.get(str(stats.get("finish_reason")))
    if note:
        parts.append(note)
    return " · ".join(parts)


FOLD_LINES = 12  # a message longer than this (or FOLD_CHARS) shows its first lines
FOLD_CHARS = 3000


def folded(text: str) -> str | None:
    """The first lines of a long message and how much more there is; None when short."""
    lines = text.splitlines()
    if len(lines) <= FOLD_LINES and len(text) <= FOLD_CHARS:
        return None
    head = "\n".join(lines[:FOLD_LINES])[:FOLD_CHARS]
    shown = head.count("\n") + 1
    rest = len(lines) - shown
    more = plural(rest, "more line") if rest > 0 else f"{len(text) - len(head):,} more characters"
    return f"{head}\n… {more} ({plural(len(text), 'character')}) · Space shows all"


def import_renderer() -> None:
    """Import what the first message needs (markdown-it, pygments: ~50–100 ms) ahead of it.

    Run in a thread after the first frame; otherwise the first answer pays it between
    Enter and its first token.
    """
    from textual.widgets import Markdown  # noqa: F401

    import tui.chat.answer_stream  # noqa: F401


class MessageView(SizedByLayout, Vertical):
    """A message in the list. User messages can be focused and edited (Enter or e)."""

    BINDINGS = [
        Binding("enter,e", "edit", "Edit & resend", id="message.edit"),
        Binding("space", "toggle_fold", "Show all / fold", id="message.fold"),
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
        reasoning: str = "",
    ) -> None:
        super().__init__(classes=f"message -{role}")
        self.reasoning = reasoning  # a reasoning model's thinking, shown above the answer
        self.tools: dict[str, Any] | None = None  # an answer's tool calls (StoredMessage.tools)
        self.role = role
        self.content = content
        self.message_id = message_id
        self._title = title or ("You" if role == "user" else "Assistant")
        self._stats = stats
        self._versions: AnswerVersions | None = None  # set once an answer was regenerated
        self._folded = False  # a long user message shows its first lines
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
        if self.reasoning:
            from tui.chat.thinking_section import ThinkingSection

            yield ThinkingSection(self.reasoning, stats=self._stats or {})
        if self.role == "user":
            # What the user typed, as typed: no Markdown, no markup, line breaks kept; a long
            # paste folded to its first lines (Space shows all).
            self._folded = folded(self.content) is not None
            yield Static(Content(self._body_text()), classes="body")
        else:
            # Imported here: Markdown pulls in pygments (~50 ms), not needed for the first
            # frame.
            from tui.chat.answer_markdown import answer_parser
            from tui.chat.streamed_markdown import AnswerMarkdown

            # An answer mounted to stream into (answer_flow.py) gets its first paragraph now.
            awaits_text = self.has_class("-streaming")
            yield AnswerMarkdown(
                self.content, classes="body", parser_factory=answer_parser, awaits_text=awaits_text
            )
        yield Static("", classes="stats", markup=False)

    def on_mount(self) -> None:
        self._show_stats_line()
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

    async def append_reasoning(self, text: str) -> None:
        """More thinking: shown in a section above the answer, open while it grows."""
        from tui.chat.thinking_section import ThinkingSection

        self.reasoning += text
        sections = self.query_children(ThinkingSection)
        if sections:
            await sections.first().append(text)
        else:
            await self.mount(ThinkingSection(self.reasoning), after=self.query_one(".role"))

    async def append(self, text: str) -> None:
        if self.reasoning and text and not self.content:
            from tui.chat.thinking_section import ThinkingSection

            for section in self.query_children(ThinkingSection):
                section.fold()  # the answer starts: the thinking folds away
        self.content += text
        if self._stream is not None:
            await self._stream.write(text)

    async def end_stream(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self.remove_class("-streaming")
        if not self.content and self.is_mounted:
            # Stopped, failed or only calling tools before any text: no "…" left waiting.
            from textual.widgets import Markdown

            await self.query_one(Markdown).update("")

    def set_stats(self, stats: dict[str, Any]) -> None:
        self._stats = stats
        self._show_stats_line()
        self.set_class(stats.get("finish_reason") == "cancelled", "-stopped")
        if self.reasoning:
            from tui.chat.thinking_section import ThinkingSection

            for section in self.query_children(ThinkingSection):
                section.set_stats(stats)

    def set_versions(self, versions: AnswerVersions) -> None:
        """Under an answer that was regenerated: which of its prompt's answers this is."""
        self._versions = versions if versions.total > 1 else None
        if self.query(".stats"):  # else compose shows it
            self._show_stats_line()

    async def show_version(
        self, content: str, stats: dict[str, Any] | None, title: str, versions: AnswerVersions
    ) -> None:
        """Show another answer to the same prompt (flipped to with ←/→)."""
        from textual.widgets import Markdown

        self.content = content
        self._stats = stats
        self.query_one(".role", Label).update(title)
        await self.query_one(Markdown).update(content)
        reason = (stats or {}).get("finish_reason")
        self.set_class(reason == "cancelled", "-stopped")
        self.set_class(reason == "error", "-error")
        self.set_versions(versions)

    def _show_stats_line(self) -> None:
        parts = [format_stats(self._stats)] if self._stats and self.role != "picture" else []
        if self._versions is not None:
            shown, total = self._versions.shown, self._versions.total
            parts.append(f"answer {shown} of {total} (← → in an empty prompt)")
        stats_line = self.query_one(".stats", Static)
        stats_line.update(" · ".join(p for p in parts if p))
        stats_line.display = bool(parts)

    @property
    def title(self) -> str:
        return self._title

    @property
    def stats(self) -> dict[str, Any] | None:
        return self._stats

    def set_error(self, text: str) -> None:
        self._stats = {"finish_reason": "error", "error": text}  # as the store keeps it
        stats_line = self.query_one(".stats", Static)
        # Literal: error texts quote native logs ("GGML_ASSERT(buf[/0] ...)"), not markup.
        stats_line.update(Content(text))
        stats_line.display = True
        self.add_class("-error")

    def _body_text(self) -> str:
        short = folded(self.content) if self._folded else None
        return self.content if short is None else short

    def action_toggle_fold(self) -> None:
        """Space on a long message: show all of it, or fold it again."""
        if self.role != "user" or folded(self.content) is None:
            return
        self._folded = not self._folded
        self.query_one(".body", Static).update(Content(self._body_text()))

    def action_edit(self) -> None:
        if self.role == "user":
            self.post_message(self.EditRequested(self))
