"""Show a picture inline: Kitty graphics or Sixel where the terminal answers, half-cells else.

Generic (the Images screen, the gallery, and any screen that wants a thumbnail use it).
textual-image picks its renderer by probing the terminal when it is first imported, and the
probe cannot run once Textual owns the terminal: `probe_terminal_graphics()` runs it from the
entry point, before the app starts. A renderer can also be forced (setting
`images.renderer`; tests force half-cells, whose output is plain coloured text).
"""

from __future__ import annotations

import asyncio
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


# Terminals that draw real pixels (Kitty graphics or Sixel); elsewhere (tmux, screen, most
# SSH sessions through them, plain xterm) colour half-cells are what works.
_GRAPHICS_TERMINALS = (
    "kitty",
    "wezterm",
    "foot",
    "mlterm",
    "contour",
    "konsole",
    "iterm",
    "ghostty",
    "mintty",
    "rio",
    "warp",
)


def terminal_may_draw_pictures(env: dict[str, str]) -> bool:
    """Whether the environment names a terminal with Kitty graphics or Sixel (no I/O)."""
    if env.get("TMUX") or env.get("STY"):
        return False
    names = " ".join(env.get(k, "") for k in ("TERM", "TERM_PROGRAM", "LC_TERMINAL")).lower()
    markers = ("KITTY_WINDOW_ID", "KONSOLE_VERSION", "WT_SESSION", "WEZTERM_EXECUTABLE")
    return any(n in names for n in _GRAPHICS_TERMINALS) or any(m in env for m in markers)


def probe_terminal_graphics(renderer: str, env: dict[str, str] | None = None) -> str | None:
    """Call before the app starts: where pictures may be drawn as pixels, import textual-image
    now so it can ask the terminal (up to ~0.3 s); elsewhere do nothing (half-cells need no
    probe). Returns the detected renderer's name, or None when nothing was probed."""
    import os

    if renderer != "auto" or not terminal_may_draw_pictures(dict(env or os.environ)):
        return None
    try:
        from textual_image.renderable import Image
    except ImportError:
        return None
    except Exception:  # a terminal that answers oddly must not stop the app
        log.warning("textual-image could not probe the terminal", exc_info=True)
        return None
    global _probed
    _probed = True
    return Image.__module__.rsplit(".", 1)[-1]


_probed = False


def _import_quietly() -> None:
    """Import textual-image without letting it talk to the terminal.

    On first import it queries the terminal (cell size, Sixel, Kitty graphics) by writing
    escape codes and reading stdin; inside a running Textual app that read would race the
    app's own input thread. With stdout seen as "not a terminal" it skips every query and
    assumes 10x20-pixel cells, which is all half-cells need.
    """
    import sys

    class _NotATerminal:
        def __init__(self, stream: object) -> None:
            self._stream = stream

        def isatty(self) -> bool:
            return False

        def __getattr__(self, name: str) -> object:
            return getattr(self._stream, name)

    real = sys.__stdout__
    sys.__stdout__ = _NotATerminal(real)  # type: ignore[misc,assignment]
    try:
        import textual_image.widget  # noqa: F401
    finally:
        sys.__stdout__ = real  # type: ignore[misc]


def image_widget_class(renderer: Renderer) -> type[Widget] | None:
    """The textual-image widget class for `renderer`; None when textual-image is missing.

    "auto" is what the terminal answered to the probe at start, else colour half-cells.
    """
    import sys

    try:
        if "textual_image.widget" not in sys.modules and not _probed:
            _import_quietly()
        from textual_image import widget
    except ImportError:
        return None
    from tui.widgets.halfcell_picture import HalfcellPicture

    classes: dict[str, type[Widget]] = {
        "auto": widget.Image if _probed else HalfcellPicture,
        "halfcell": HalfcellPicture,
        "unicode": widget.UnicodeImage,
        "sixel": widget.SixelImage,
        "kitty": widget.TGPImage,
    }
    return classes.get(renderer, HalfcellPicture)


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
        max-width: 100%;  /* wraps in a narrow pane instead of being cut */
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
        # Two show() calls close together (a worker's picture, then the next item's) each
        # removed the children, then each mounted one: two pictures stacked at half height.
        self._showing = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield Static(self._hint, classes="image-hint", markup=False)

    @property
    def image(self) -> PILImage | str | None:
        return self._image

    def set_hint(self, hint: str) -> None:
        """Change the text shown while there is no picture (shown at once when empty)."""
        self._hint = hint
        if self._image is None:
            for static in self.query(".image-hint").results(Static):
                static.update(hint)

    async def show(self, image: PILImage | Path | str | None) -> None:
        """Replace what is shown (None: the hint again); calls take turns."""
        async with self._showing:
            await self._show(image)

    async def _show(self, image: PILImage | Path | str | None) -> None:
        self._image = str(image) if isinstance(image, Path) else image
        widget_class = image_widget_class(self._renderer) if image is not None else None
        shown = self.query(".image")
        if widget_class is not None and shown and type(shown.first()) is widget_class:
            shown.first().image = self._image  # type: ignore[attr-defined]
            return  # swapping the picture: no remount, no new layout of the screen
        await self.remove_children()
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
