"""Images in chat messages: reading them, naming their type, and refusing them cleanly.

Engines call `refuse_images` before sending anything when the loaded model cannot see, so
the user gets a sentence to act on instead of a template error or a silently dropped image.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Sequence
from pathlib import Path

from backends.base import ChatMessage, ImageAttachment
from backends.errors import BackendError, UnsupportedOption

# Magic bytes of the formats vision models and servers take.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")


class ImageUnreadable(BackendError):
    title = "Cannot read the image"


def sniff_mime(data: bytes) -> str | None:
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def read_attachment(image: ImageAttachment) -> bytes:
    if image.data is not None:
        return image.data
    if not image.path:
        raise ImageUnreadable("An attached image has neither a file nor data. Attach it again.")
    try:
        return Path(image.path).read_bytes()
    except OSError as exc:
        raise ImageUnreadable(
            f"Could not read the image {image.path} ({exc.strerror or exc}). Attach it again."
        ) from exc


def mime_of(image: ImageAttachment, data: bytes | None = None) -> str:
    if image.mime:
        return image.mime
    sniffed = sniff_mime(data if data is not None else read_attachment(image))
    if sniffed:
        return sniffed
    guessed = mimetypes.guess_type(image.path or "")[0]
    return guessed or "application/octet-stream"


def data_url(image: ImageAttachment) -> str:
    """`data:image/png;base64,...`, as OpenAI-compatible servers and llama.cpp take images."""
    data = read_attachment(image)
    return f"data:{mime_of(image, data)};base64,{base64.b64encode(data).decode('ascii')}"


def has_images(messages: Sequence[ChatMessage]) -> bool:
    return any(m.images for m in messages)


def refuse_images(messages: Sequence[ChatMessage], model_name: str, why: str = "") -> None:
    """Raise UnsupportedOption when `messages` carry images this model cannot take."""
    if not has_images(messages):
        return
    count = sum(len(m.images) for m in messages)
    reason = f" {why}" if why else ""
    raise UnsupportedOption(
        f"{model_name} reads text only, so the {count} attached image(s) cannot be sent.{reason} "
        "Pick a vision model (ctrl+o), or remove the images and send the text alone.",
        title="This model cannot see images",
    )


def pil_image(image: ImageAttachment) -> object:
    """The attachment as an RGB PIL image (for transformers processors)."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(read_attachment(image))) as opened:
            return opened.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        where = image.path or "an attached image"
        raise ImageUnreadable(
            f"{where} is not an image this app can read ({exc}). Use PNG, JPEG or WebP."
        ) from exc
