"""Images in chat messages: reading them, naming their type, and refusing them cleanly.

Engines call `refuse_images` before sending anything when the loaded model cannot see, so
the user gets a sentence to act on instead of a template error or a silently dropped image.
What is sent (scaled, as a data URL or a PIL image) is backends.chat.image_fit's.
"""

from __future__ import annotations

import dataclasses
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


class ImagesRefused(UnsupportedOption):
    """The loaded model reads text only, so the pictures of a message cannot go."""

    title = "This model cannot see images"


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


def has_images(messages: Sequence[ChatMessage]) -> bool:
    return any(m.images for m in messages)


def without_images(messages: Sequence[ChatMessage]) -> tuple[list[ChatMessage], int]:
    """The conversation with its pictures left out (for a text-only model), and how many
    pictures were left out. The texts stay as they are."""
    left_out = sum(len(m.images) for m in messages)
    return [dataclasses.replace(m, images=()) if m.images else m for m in messages], left_out


def refuse_images(messages: Sequence[ChatMessage], model_name: str, why: str = "") -> None:
    """Raise UnsupportedOption when `messages` carry images this model cannot take."""
    if not has_images(messages):
        return
    count = sum(len(m.images) for m in messages)
    reason = f" {why}" if why else ""
    raise ImagesRefused(
        f"{model_name} reads text only, so the {count} attached image(s) cannot be sent.{reason} "
        "Pick a vision model (ctrl+o), or remove the images (shift+F9) and send the text "
        "alone."
    )
