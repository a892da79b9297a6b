"""Show a picture inline: Kitty graphics or Sixel where the terminal answers, half-cells else.

Generic (the Images screen, the gallery, and any screen that wants a thumbnail use it).
textual-image picks its renderer by probing the terminal when it is first imported, and the
probe cannot run once Textual owns the terminal: `probe_terminal_graphics()` runs it from the
entry point, before the app starts. A renderer can also be forced (setting
`images.renderer`; tests force half-cells, whose output is plain coloured text).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual.app import ComposeResult
from textual.containers import Container
from textual.widgets import Static

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage
    from textual.widget import Widget

log = logging.getLogger(__name__)

Renderer = Literal["auto", "halfcell", "unicode", "sixel", "kitty"]
RENDERERS: tuple[Renderer, ...] = ("auto", "halfcell", "unicode", "sixel", "kitty")


def probe_terminal_graphics() -> str | None:
    """Import textual-image now (it probes the terminal); its renderer's name, None if absent."""
    try:
        from textual_image.renderable import Image
    except ImportError:
        return None
    except Exception:  # a terminal that answers oddly must not stop the app
        log.warning("textual-image could not probe the terminal", exc_info=True)
        return None
    return Image.__module__.rsplit(".", 1)[-1]


def image_widget_class(renderer: Renderer) -> type[Widget] | None:
    """The textual-image widget class for `renderer`; None when textual-image is missing."""
    try:
        from textual_image import widget
    except ImportError:
        return None
    classes: dict[str, type[Widget]] = {
        "auto": widget.Image,
        "halfcell": widget.HalfcellImage,
        "unicode": widget.UnicodeImage,
        "sixel": widget.SixelImage,
        "kitty": widget.TGPImage,
    }
    return classes.get(renderer, widget.Image)


class ImagePreview(Container):
    """A picture (PIL image or PNG path) scaled into the space it has, or a hint when empty."""

    DEFAULT_CSS = """
    ImagePreview {
        align: center middle;
        height: 1fr;
    }
    ImagePreview > .image {
        width: auto;
        height: 1fr;
    }
    ImagePreview > .image-hint {
        width: auto;
        color: $text-muted;
    }
    """

    def __init__(
        self,
        hint: str = "",
        *,
        renderer: Renderer = "auto",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._hint = hint
        self._renderer = renderer
        self._image: PILImage | str | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._hint, classes="image-hint", markup=False)

    @property
    def image(self) -> PILImage | str | None:
        return self._image

    async def show(self, image: PILImage | Path | str | None) -> None:
        """Replace what is shown (None: the hint again)."""
        self._image = str(image) if isinstance(image, Path) else image
        await self.remove_children()
        widget_class = image_widget_class(self._renderer) if image is not None else None
        if image is None:
            await self.mount(Static(self._hint, classes="image-hint", markup=False))
        elif widget_class is None:
            await self.mount(
                Static(
                    "Install textual-image to see pictures here: pip install 'localai-tui[image]'",
                    classes="image-hint",
                    markup=False,
                )
            )
        else:
            await self.mount(widget_class(self._image, classes="image"))  # type: ignore[call-arg]
