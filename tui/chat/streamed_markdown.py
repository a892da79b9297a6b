"""The Markdown widget answers are drawn in: Textual's, with blocks that are sized by one
layout (tui/widgets/sized_by_layout.py), since the last block grows with every update of
a streaming answer, and an empty first paragraph mounted ahead of the first token."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markdown_it.token import Token
from textual.content import Content
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock

from tui.widgets.sized_by_layout import SizedByLayout

AWAITING_TEXT = "…"  # where the answer's text will start, until it does


class LaidOutWhenTaller:
    """Mixin for a text block (a paragraph): new text that wraps to as many lines as the old
    repaints the block alone. Textual's `set_content` asks for a layout of the whole screen
    (~3-4 ms at 120x40, then a full render) on every update; most updates of a streaming
    answer add words to the last line, and the first token fills the "…" line."""

    def set_content(self, content: Content) -> None:
        block: Any = self  # a MarkdownBlock
        width, height = block.content_size
        block._content = content
        block.update(content, layout=False)
        if not width or block._render().get_height(block.styles, width) != height:
            block.refresh(layout=True)


def _sized(block: type[MarkdownBlock]) -> type[MarkdownBlock]:
    # Same class name: CSS written for Textual's blocks (by type) still applies.
    bases = (SizedByLayout, block)
    if block is Markdown.BLOCKS["paragraph_open"]:
        bases = (LaidOutWhenTaller, *bases)
    return type(block.__name__, bases, {"__module__": __name__})


class AnswerMarkdown(SizedByLayout, Markdown):
    """Markdown for a message body (`query_one(Markdown)` finds it)."""

    BLOCKS = {name: _sized(block) for name, block in Markdown.BLOCKS.items()}

    def __init__(self, markdown: str | None = None, *, awaits_text: bool = False, **kwargs: Any):
        super().__init__(markdown, **kwargs)
        self._first_paragraph = awaits_text and not markdown

    def _parse_markdown(self, tokens: Iterable[Token]) -> Iterable[MarkdownBlock]:
        # The mount's parse of an answer still to come yields its first paragraph, showing
        # "…" meanwhile: the first token then only sets its text (Textual's append updates
        # the last block in place, and the line it takes is already laid out), where
        # mounting a block, styling it and laying out the screen for it kept the first
        # token ~15-20 ms off the screen after the server sent it (bench/remote_chat.py).
        blocks = list(super()._parse_markdown(tokens))
        if self._first_paragraph:
            self._first_paragraph = False
            if not blocks:
                paragraph = self.get_block_class("paragraph_open")
                block = paragraph(self, Token("paragraph_open", "p", 1))
                block.set_content(Content.styled(AWAITING_TEXT, "dim"))
                blocks.append(block)
        return blocks
