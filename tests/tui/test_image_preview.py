"""Which terminals get a pixel probe at start (the rest draw half-cells without one)."""

from __future__ import annotations

import pytest

from tui.widgets.image_preview import probe_terminal_graphics, terminal_may_draw_pictures


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM": "xterm-kitty"}, True),
        ({"TERM_PROGRAM": "WezTerm", "TERM": "xterm-256color"}, True),
        ({"TERM": "foot"}, True),
        ({"WT_SESSION": "x", "TERM": "xterm-256color"}, True),
        ({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"}, False),
        ({"TERM": "tmux-256color"}, False),
        ({"TERM": "xterm-256color"}, False),
        ({}, False),
    ],
)
def test_terminal_may_draw_pictures(env: dict[str, str], expected: bool) -> None:
    assert terminal_may_draw_pictures(env) is expected


def test_no_probe_where_half_cells_are_all_there_is() -> None:
    assert probe_terminal_graphics("auto", {"TERM": "tmux-256color", "TMUX": "1"}) is None
    assert probe_terminal_graphics("halfcell", {"TERM": "xterm-kitty"}) is None
