"""Where the app's .tcss files are: the app loads those of its first screen, the chat
(app.tcss, chat.tcss); every other screen names its own in `CSS_PATH`, parsed when that
screen first opens (the images and modal files were ~28M instructions of the first frame,
2 %; bench/startup.py --instructions)."""

from __future__ import annotations

from pathlib import Path

STYLES = Path(__file__).parent / "styles"
