"""Cutting text to a number of terminal cells, not characters.

A CJK character or an emoji takes two cells: cutting "会議の議事録をまとめて" to 20
characters gave 22+ cells and pushed a table's columns off screen. Everything that cuts a
title, name or path to fit a column goes through `clip`.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size

ELLIPSIS = "…"


def clip(text: str, width: int, *, left: bool = False) -> str:
    """`text` in at most `width` cells; cut text ends (or, with `left`, starts) with "…"."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    if width == 1:
        return ELLIPSIS
    if left:
        # Cut from the left: keep the tail (a path's file name), reversed through set_cell_size.
        tail = set_cell_size(text[::-1], width - 1)[::-1]
        return ELLIPSIS + _drop_pad(tail, left=True)
    return _drop_pad(set_cell_size(text, width - 1)) + ELLIPSIS


def _drop_pad(text: str, *, left: bool = False) -> str:
    """set_cell_size pads with a space where a wide character would straddle the edge."""
    return text.lstrip(" ") if left else text.rstrip(" ")
