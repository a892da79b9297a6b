"""Object detections drawn over their picture (boxes and labels), for any image viewer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from backends.tasks.protocol import Detection

if TYPE_CHECKING:
    from PIL.Image import Image

COLOURS = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48))


def label_colour(label: str, labels: Sequence[str]) -> tuple[int, int, int]:
    return COLOURS[sorted(set(labels)).index(label) % len(COLOURS)]


def draw_detections(path: str, detections: Sequence[Detection]) -> Image:
    from PIL import Image, ImageDraw

    with Image.open(path) as opened:
        picture = opened.convert("RGB")
    draw = ImageDraw.Draw(picture)
    width = max(1, min(picture.size) // 100)
    labels = [d.label for d in detections]
    for detection in detections:
        box = detection.box
        colour = label_colour(detection.label, labels)
        draw.rectangle((box.xmin, box.ymin, box.xmax, box.ymax), outline=colour, width=width)
        draw.text((box.xmin + width, box.ymin + width), detection.label, fill=colour)
    return picture
