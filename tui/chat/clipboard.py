"""Copying over OSC 52 (works over SSH), always with a notice saying how it was sent."""

from __future__ import annotations

import os
import re

from textual.app import App

CODE_BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
OSC52_NOTE = (
    "Sent to the terminal clipboard via OSC 52. If nothing was copied, your terminal does not "
    "support OSC 52 (in tmux: set -g set-clipboard on)."
)


def copy_with_notice(app: App[object], text: str, what: str) -> None:
    """Copy `text` and tell the user it went via OSC 52, which some terminals ignore."""
    app.copy_to_clipboard(text)
    if os.environ.get("TERM_PROGRAM") == "Apple_Terminal":
        app.notify(
            "macOS Terminal ignores OSC 52, so nothing reached the clipboard. iTerm2, "
            "WezTerm, kitty, Ghostty or Alacritty support it.",
            title=f"Could not copy {what}",
            severity="warning",
        )
        return
    note = OSC52_NOTE
    if os.environ.get("TMUX"):
        note = "Sent via OSC 52 through tmux: it needs `set -g set-clipboard on` in tmux.conf."
    app.notify(note, title=f"Copied {what}")


def last_code_block(markdown: str) -> str | None:
    """The last fenced code block's contents (an unfinished fence counts too)."""
    blocks = CODE_BLOCK.findall(markdown)
    if blocks:
        return str(blocks[-1])
    tail = markdown.rsplit("```", 1)
    if markdown.count("```") % 2 == 1 and len(tail) == 2:
        return tail[1].split("\n", 1)[1] if "\n" in tail[1] else None
    return None
