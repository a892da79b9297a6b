"""How answers are read as Markdown: raw HTML is text, and a single line break is a break.

Textual's default parser ("gfm-like") passes HTML through, and its Markdown widget draws
no HTML, so `The <span> tag…` lost its tag and a message starting with `<div>` vanished
whole; it also joined lines that a poem or unfenced code needs kept apart (markdown-it's
`breaks` option only changes its HTML renderer; Textual draws a "softbreak" as a space).
Chat UIs show HTML as written and keep line breaks; code blocks are unchanged.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore


@cache
def answer_parser() -> MarkdownIt:
    """A parser factory for `Markdown(parser_factory=...)`. Textual calls it for every
    update of a streaming answer; building a parser (its rules, linkify's patterns) cost
    more than parsing the update, so there is one, used on the UI thread only (a parse keeps
    its state apart from the parser)."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("gfm-like", {"html": False, "breaks": True})
    parser.core.ruler.push("keep_line_breaks", _keep_line_breaks)
    return parser


def _keep_line_breaks(state: StateCore) -> None:
    for token in state.tokens:
        for child in token.children or ():
            if child.type == "softbreak":
                child.type = "hardbreak"
