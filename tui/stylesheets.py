"""Where the app's .tcss files are, and how one joins the app's stylesheet later.

The app loads those of its first frame (app.tcss, chat.tcss); the chat adds its messages'
and params panel's (chat_messages.tcss) after that frame, and every other screen names its
own in `CSS_PATH`, added as that screen first opens (the images, modal and message rules
were ~25M instructions of the first frame; bench/startup.py --instructions).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

STYLES = Path(__file__).parent / "styles"


def add_stylesheet(app: App[object], path: Path) -> None:
    """Add a .tcss file to the app's stylesheet, once: only it is parsed, as the next
    widget is styled (the others' rules stay parsed), and it styles widgets styled from
    then on, not those already on screen, so it must name only widgets not mounted yet.
    (Textual's own way, a screen's CSS_PATH, parsed every stylesheet afresh.)"""
    if not app.stylesheet.has_source(str(path), ""):
        app.stylesheet.read(path)
