"""textual-image's colour half-cell picture, drawn straight into Strips.

textual-image draws half-cells as a Rich renderable: per cell it builds two Rich `Color`s
and a `Style` from scratch, and Textual then splits, crops and filters those segments line
by line. For an 80x40-cell preview that was ~170 ms per picture on this 2-core machine, most
of the "last step -> picture on screen" time. This subclass keeps textual-image's sizing
and scaling (same cells, same colours) and builds each row's Strip itself, reusing the
`Style` of a colour pair already seen, once per picture and size.
"""

from __future__ import annotations

from typing import Any

from PIL import Image as PILImage
from rich.color import Color, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual_image._geometry import ImageSize
from textual_image._pixeldata import PixelData
from textual_image._terminal import get_cell_size
from textual_image.renderable.halfcell import Image as HalfcellRenderable
from textual_image.widget import HalfcellImage

UPPER_HALF = "▀"


class HalfcellPicture(HalfcellImage, Renderable=HalfcellRenderable):
    """A picture as coloured half-cells: the upper pixel in the foreground, the lower behind."""

    _lines: tuple[Any, Size, list[Strip]] | None = None

    @property
    def image(self) -> Any:
        return self._image

    @image.setter
    def image(self, value: Any) -> None:
        """A new picture of the same shape takes the same cells: repaint this widget only.
        textual-image's setter lays the whole screen out again for every picture."""
        width, height = self._image_width, self._image_height
        if (
            isinstance(value, PILImage.Image)
            and width
            and height
            and value.width * height == value.height * width
        ):
            if self._renderable:
                self._renderable.cleanup()
                self._renderable = None
            self._image = value
            self._image_width, self._image_height = value.width, value.height
            self.refresh()
            return
        HalfcellImage.image.fset(self, value)  # type: ignore[attr-defined]

    def render_line(self, y: int) -> Strip:
        size = self.content_size
        lines = self._lines
        if lines is None or lines[0] is not self.image or lines[1] != size:
            lines = (self.image, size, self._draw(size))
            self._lines = lines
        strips = lines[2]
        return strips[y] if y < len(strips) else Strip.blank(size.width)

    def _draw(self, size: Size) -> list[Strip]:
        if not self.image or not size.width or not size.height:
            return []
        pixels = PixelData(self.image, mode="rgb")
        width, height = ImageSize(
            pixels.width, pixels.height, *self._get_styled_size()
        ).get_cell_size(size.width, size.height, get_cell_size())
        if not width or not height:
            return []
        image = pixels.scaled(width, height * 2).pil_image
        data = image.tobytes()
        hexed = data.hex()  # "rrggbb" for every pixel, in one C call
        colors: dict[str, Color] = {}
        styles: dict[bytes, Style] = {}
        stride = width * 3
        strips: list[Strip] = []
        for row in range(height):
            top = 2 * row * stride
            segments: list[Segment] = []
            for i in range(top, top + stride, 3):
                j = i + stride  # the pixel below, drawn as the cell's background
                key = data[i : i + 3] + data[j : j + 3]
                style = styles.get(key)
                if style is None:
                    style = Style.from_color(
                        _color(colors, hexed, data, i), _color(colors, hexed, data, j)
                    )
                    styles[key] = style
                segments.append(Segment(UPPER_HALF, style))
            strips.append(Strip(segments, width))
        return strips


def _color(cache: dict[str, Color], hexed: str, data: bytes, offset: int) -> Color:
    """The Color of the pixel at byte `offset`, equal to `Color.from_rgb`'s (same name,
    type and triplet) without its per-call formatting: a picture of random weights' noise
    has two new colours per cell."""
    name = hexed[2 * offset : 2 * offset + 6]
    color = cache.get(name)
    if color is None:
        triplet = ColorTriplet(data[offset], data[offset + 1], data[offset + 2])
        color = cache[name] = Color("#" + name, ColorType.TRUECOLOR, None, triplet)
    return color
