"""Pictures fitted to what a model takes: scaled down to a longest side and re-encoded, and
decompression bombs refused before anything decodes them.

Only what is sent is scaled; the stored copy keeps its size. Vision processors work at
224-1536 px and servers resize again, so a 3000x3000 PNG (36 MB as a data URL, sent again
on every later turn) goes out as a ~1536 px JPEG of a few hundred KB. A picture with
transparency stays PNG. Scaled pictures are cached per file, so a long chat with images
does not decode them all again on every turn.

Pillow is the `vision` extra: without it pictures go out as they are.
"""

from __future__ import annotations

import base64
import functools
import io
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backends.chat.images import ImageUnreadable, mime_of, read_attachment
from backends.errors import BackendError

if TYPE_CHECKING:
    from backends.base import ImageAttachment

JPEG_QUALITY = 90


class ImageTooLarge(BackendError):
    title = "Image too large"


def max_pixels() -> int | None:
    """Pillow's decompression-bomb limit (about 89 megapixels), None without Pillow."""
    try:
        from PIL import Image
    except ImportError:
        return None
    limit = Image.MAX_IMAGE_PIXELS
    return int(limit) if limit else None


def check_pixels(path: Path) -> None:
    """ImageTooLarge when `path`'s header says it would decode past Pillow's limit.

    Reads the header only: a 16000x16000 PNG of a few KB would need 768 MB to decode.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return
    limit = max_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                width, height = opened.size
    except Image.DecompressionBombError:
        raise _too_large(path.name, _bomb_size(path), limit) from None
    except (UnidentifiedImageError, OSError):
        return  # not ours to judge: the caller's type check says what is wrong
    if limit and width * height > limit:
        raise _too_large(path.name, (width, height), limit)


def _too_large(name: str, size: tuple[int, int] | None, limit: int | None) -> ImageTooLarge:
    most = f"{limit / 1e6:.0f} megapixels" if limit else "Pillow's limit"
    return ImageTooLarge(
        f"{name} is {_pixels(size)}; pictures up to {most} can be attached (bigger ones can "
        "take gigabytes to decode). Scale it down first, e.g. to 4000 pixels on its longest "
        "side."
    )


def _pixels(size: tuple[int, int] | None) -> str:
    if size is None:
        return "too many pixels"
    return f"{size[0]}×{size[1]} pixels ({size[0] * size[1] / 1e6:.0f} megapixels)"


def _bomb_size(path: Path) -> tuple[int, int] | None:
    """The size in a PNG's header, read by hand: Pillow refuses to open a bomb at all."""
    try:
        with path.open("rb") as handle:
            head = handle.read(24)
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def fitted_bytes(image: ImageAttachment) -> tuple[bytes, str]:
    """The encoded picture to send and its MIME type: scaled to `image.max_side`, or the
    original bytes when it is small enough (or Pillow is missing)."""
    if image.max_side and image.path and image.data is None:
        try:
            stat = os.stat(image.path)
        except OSError:
            pass  # read_attachment below says the file is gone
        else:
            cached = _fitted_file(image.path, stat.st_mtime_ns, stat.st_size, image.max_side)
            if cached is not None:
                return cached
    data = read_attachment(image)
    mime = mime_of(image, data)
    if image.max_side:
        scaled = _scaled(data, image.max_side, image.path or "an attached image")
        if scaled is not None:
            return _encode(scaled)
    return data, mime


def data_url(image: ImageAttachment) -> str:
    """`data:image/jpeg;base64,...`, as OpenAI-compatible servers and llama.cpp take images."""
    data, mime = fitted_bytes(image)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def pil_image(image: ImageAttachment) -> Any:
    """The picture as an RGB PIL image, scaled to `image.max_side` (for processors)."""
    where = image.path or "an attached image"
    data = read_attachment(image)
    scaled = _scaled(data, image.max_side, where) if image.max_side else None
    if scaled is not None:
        return scaled.convert("RGB")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            return opened.convert("RGB")
    except Image.DecompressionBombError:
        raise _too_large(Path(where).name, None, max_pixels()) from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageUnreadable(
            f"{where} is not an image this app can read ({exc}). Use PNG, JPEG or WebP."
        ) from exc


@functools.lru_cache(maxsize=32)
def _fitted_file(path: str, mtime_ns: int, size: int, max_side: int) -> tuple[bytes, str] | None:
    """A scaled file's bytes, cached by path, mtime and size; None when it fits as it is."""
    del mtime_ns, size  # part of the cache key only
    data = Path(path).read_bytes()
    scaled = _scaled(data, max_side, path)
    return _encode(scaled) if scaled is not None else None


def _scaled(data: bytes, max_side: int, where: str) -> Any:
    """A PIL image at most `max_side` px on its longest side (EXIF orientation applied),
    or None when the picture already fits or cannot be read here (the engine reports it)."""
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError:
        return None
    try:
        opened = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise _too_large(Path(where).name, None, max_pixels()) from None
    except (UnidentifiedImageError, OSError):
        return None
    with opened:
        if max(opened.size) <= max_side:
            return None
        opened.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale
        upright = ImageOps.exif_transpose(opened)
        upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return upright


def _encode(picture: Any) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        picture.save(buffer, format="PNG", optimize=False)
        return buffer.getvalue(), "image/png"
    picture.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue(), "image/jpeg"
