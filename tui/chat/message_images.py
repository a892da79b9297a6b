"""Thumbnails of the images attached to a message, in a row under its header.

textual-image draws them: Kitty graphics or Sixel where the terminal answers, colour
half-cells elsewhere (tests force half-cells: `MessageImages.renderer = "halfcell"`). A
missing file, a missing textual-image or a picture too big to decode shows the file name
instead, never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

log = logging.getLogger(__name__)

THUMB_WIDTH = 20
THUMB_HEIGHT = 6


def caption_for(path: Path) -> str:
    """The name the user gave the file: stored copies are "<hash>-<original name>"."""
    head, sep, rest = path.name.partition("-")
    return rest if sep and len(head) == 16 and rest else path.name


def _image_widget(path: Path, renderer: str) -> Widget | None:
    from backends.chat.image_fit import check_pixels
    from backends.errors import BackendError
    from tui.widgets.image_preview import RENDERERS, image_widget_class

    try:
        check_pixels(path)  # a bomb stored before attaching checked it is never decoded here
    except BackendError:
        return None
    image_class = image_widget_class(renderer if renderer in RENDERERS else "auto")  # type: ignore[arg-type]
    if image_class is None:
        return None
    try:
        return image_class(str(path), classes="thumb-image")  # type: ignore[call-arg]
    except Exception:  # an unreadable or odd file: the caption alone says which
        return None


class MessageImages(Horizontal):
    """One thumbnail per image, each captioned with its file name."""

    renderer = "auto"  # "auto", "halfcell", "unicode", "sixel", "kitty"

    DEFAULT_CSS = f"""
    MessageImages {{ height: auto; margin: 0 0 1 0; }}
    MessageImages .thumb {{ width: {THUMB_WIDTH}; height: auto; margin-right: 1; }}
    MessageImages .thumb-image {{ width: {THUMB_WIDTH}; height: {THUMB_HEIGHT}; }}
    MessageImages .thumb-caption {{ width: {THUMB_WIDTH}; height: 1; color: $text-muted; }}
    """

    def __init__(self, paths: Sequence[str]) -> None:
        super().__init__(classes="message-images")
        self.paths = [Path(p) for p in paths]

    def compose(self) -> ComposeResult:
        for path in self.paths:
            with Vertical(classes="thumb"):
                there = path.is_file()
                image = _image_widget(path, self.renderer) if there else None
                if image is not None:
                    yield image
                name = caption_for(path)
                caption = name
                if image is None:
                    caption = f"[cannot show: {name}]" if there else f"[image missing: {name}]"
                yield Static(_short(caption), classes="thumb-caption", markup=False)


def _short(name: str) -> str:
    return name if len(name) <= THUMB_WIDTH else name[: THUMB_WIDTH - 1] + "…"
