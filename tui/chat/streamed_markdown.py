"""The Markdown widget answers are drawn in: Textual's, with blocks that are sized by one
layout (tui/widgets/sized_by_layout.py), since the last block grows with every update of
a streaming answer."""

from __future__ import annotations

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock

from tui.widgets.sized_by_layout import SizedByLayout


def _sized(block: type[MarkdownBlock]) -> type[MarkdownBlock]:
    # Same class name: CSS written for Textual's blocks (by type) still applies.
    return type(block.__name__, (SizedByLayout, block), {"__module__": __name__})


class AnswerMarkdown(SizedByLayout, Markdown):
    """Markdown for a message body (`query_one(Markdown)` finds it)."""

    BLOCKS = {name: _sized(block) for name, block in Markdown.BLOCKS.items()}
