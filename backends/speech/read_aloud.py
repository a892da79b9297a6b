"""A streamed Markdown answer cut into sentences to speak, as the text arrives.

`SpeakableText.feed(delta)` returns the sentences completed by that delta: a sentence is
ready once its end mark (. ! ? …) is followed by a space or a line break, or at the end of a
paragraph, heading or list item, so it is never cut mid-word. Markdown markup is not spoken
(emphasis, inline code ticks, link targets, heading and list marks, HTML tags); a fenced code
block is spoken as "Code block." and a table as "Table.", once each. `finish()` returns what
is left when the stream ends.
"""

from __future__ import annotations

import re

CODE_BLOCK = "Code block."
TABLE = "Table."

_FENCE = re.compile(r"^\s*(```|~~~)")
_TABLE_ROW = re.compile(r"^\s*\|")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_EMPHASIS = re.compile(r"(\*\*|__|~~)|(?<![\w*])[*_](?=\S)|(?<=\S)[*_](?![\w*])")
_SENTENCE = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")


def plain(markdown: str) -> str:
    """One line of Markdown as words to say."""
    text = _IMAGE.sub(r"\1", markdown)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = text.replace("`", "")
    text = _EMPHASIS.sub("", text)
    return " ".join(text.split())


class SpeakableText:
    def __init__(self) -> None:
        self._line = ""  # the incomplete last line, raw
        self._pending = ""  # plain text of the current paragraph, not yet spoken
        self._in_code = False
        self._in_table = False
        self._line_kind = ""  # "" before the line's first words are seen

    def feed(self, delta: str) -> list[str]:
        out: list[str] = []
        self._line += delta
        while "\n" in self._line:
            line, self._line = self._line.split("\n", 1)
            self._whole_line(line, out)
        self._partial_line(out)
        return out

    def finish(self) -> list[str]:
        out: list[str] = []
        if self._line:
            line, self._line = self._line, ""
            self._whole_line(line, out)
        self._flush(out)
        self._in_code = self._in_table = False
        return out

    # -- lines -------------------------------------------------------------------------

    def _whole_line(self, line: str, out: list[str]) -> None:
        first = not self._line_kind
        kind = self._line_kind
        self._line_kind = ""
        if self._in_code:
            if _FENCE.match(line):
                self._in_code = False
            return
        if first and _FENCE.match(line):
            self._flush(out)
            self._in_code = True
            out.append(CODE_BLOCK)
            return
        if first and _TABLE_ROW.match(line):
            if not self._in_table:
                self._flush(out)
                self._in_table = True
                out.append(TABLE)
            return
        self._in_table = False
        if first:
            if not line.strip() or _RULE.match(line):
                self._flush(out)
                return
            kind, line = self._strip_block_marks(line, out)
        self._add(line, out)
        if kind in ("heading", "item"):
            self._flush(out)

    def _partial_line(self, out: list[str]) -> None:
        """Speak the sentences already complete in the unfinished line."""
        if self._in_code or not self._line:
            return
        if not self._line_kind:
            stripped = self._line.lstrip()
            if not stripped or stripped[0] in "`~|" or len(stripped) < 4:
                return  # could still become a fence, a table row or a block mark
        ends = list(_SENTENCE.finditer(self._line))
        last = ends[-1] if ends else None
        if last is None or last.end() >= len(self._line):
            return
        head, self._line = self._line[: last.end() + 1], self._line[last.end() + 1 :]
        if not self._line_kind:
            self._line_kind, head = self._strip_block_marks(head, out)
        self._add(head, out)

    def _strip_block_marks(self, line: str, out: list[str]) -> tuple[str, str]:
        for kind, mark in (("heading", _HEADING), ("item", _ITEM)):
            match = mark.match(line)
            if match:
                self._flush(out)  # a heading or an item starts a new sentence
                return kind, line[match.end() :]
        match = _QUOTE.match(line)
        return "paragraph", line[match.end() :] if match else line

    # -- sentences ---------------------------------------------------------------------

    def _add(self, raw: str, out: list[str]) -> None:
        """Add a line, or the head of one cut after a sentence end: either way what follows
        it is white space, so a sentence mark at its end completes a sentence."""
        words = plain(raw)
        if words:
            self._pending = f"{self._pending} {words}".strip() + " "
        while True:
            match = _SENTENCE.search(self._pending)
            if match is None:
                return
            sentence = self._pending[: match.end()].strip()
            self._pending = self._pending[match.end() :].lstrip()
            if any(ch.isalnum() for ch in sentence):
                out.append(sentence)

    def _flush(self, out: list[str]) -> None:
        rest, self._pending = self._pending.strip(), ""
        if any(ch.isalnum() for ch in rest):
            out.append(rest)


def speakable_sentences(markdown: str) -> list[str]:
    """A whole answer's sentences (what reading the last answer aloud says)."""
    reader = SpeakableText()
    return reader.feed(markdown) + reader.finish()
