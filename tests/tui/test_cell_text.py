"""Cutting to terminal cells: wide (CJK) characters count twice, an ellipsis marks the cut."""

from __future__ import annotations

from rich.cells import cell_len

from tui.cell_text import clip


def test_short_text_is_kept() -> None:
    assert clip("hello", 5) == "hello"
    assert clip("会議", 4) == "会議"


def test_wide_characters_are_cut_by_cells() -> None:
    text = "会議の議事録をまとめて"  # 11 characters, 22 cells
    for width in range(1, 23):
        cut = clip(text, width)
        assert cell_len(cut) <= width
        assert cut == text or cut.endswith("…")
    assert clip(text, 9) == "会議の議…"
    assert clip(text, 8) == "会議の…"  # a wide character never straddles the edge


def test_left_cut_keeps_the_end() -> None:
    path = "/home/u/models/長いファイル名のモデル.gguf"
    assert clip(path, 12, left=True) == "…モデル.gguf"
    assert cell_len(clip(path, 11, left=True)) <= 11
    assert clip("abcdef", 4, left=True) == "…def"
