"""Images attached to chat messages, copied into the data dir so a chat survives the
original file being moved or deleted.

Copies are named "<first 16 hex of the content's SHA-256>-<original name>": attaching the
same picture twice stores it once, a name never changes meaning, and the thumbnail and the
export can still show the name the user knew. Only images are accepted,
recognised by their first bytes, so a mistyped path cannot put a text file in a chat.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from backends.chat.image_fit import check_pixels
from backends.chat.images import IMAGE_SUFFIXES, sniff_mime
from backends.errors import BackendError

_SUFFIX_FOR_MIME = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/webp": ".webp",
}
MAX_BYTES = 50 * 1024 * 1024


class AttachmentError(BackendError):
    title = "Cannot attach the image"


def check_image_file(path: Path) -> str:
    """The image's MIME type; AttachmentError saying what is wrong with `path` otherwise."""
    if not path.exists():
        raise AttachmentError(f"There is no file at {path}. Check the path (Tab completes it).")
    if path.is_dir():
        raise AttachmentError(f"{path} is a folder. Pick an image file (PNG, JPEG, WebP).")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise AttachmentError(f"Could not read {path} ({exc.strerror or exc}).") from exc
    if size > MAX_BYTES:
        raise AttachmentError(
            f"{path.name} is {size // (1024 * 1024)} MB; images up to "
            f"{MAX_BYTES // (1024 * 1024)} MB can be attached. Scale it down first."
        )
    mime = sniff_mime(head)
    if mime is None:
        raise AttachmentError(
            f"{path.name} is not a PNG, JPEG, WebP, GIF or BMP image. "
            f"Attach one of: {', '.join(IMAGE_SUFFIXES)}."
        )
    check_pixels(path)  # a decompression bomb is refused before anything decodes it
    return mime


class AttachmentStore:
    """The folder of stored copies; returns names, resolves them back to paths."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def add(self, source: Path) -> str:
        """Copy `source` in (once per content) and return its stored name."""
        import hashlib  # here, not at the top: 1.5 ms of CPU before the app's first frame

        source = source.expanduser()
        mime = check_image_file(source)
        digest = hashlib.sha256()
        try:
            with source.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            suffix = _SUFFIX_FOR_MIME.get(mime, source.suffix.lower() or ".img")
            readable = re.sub(r"[^\w .-]+", "_", source.stem).strip("._ ")[:60] or "image"
            name = f"{digest.hexdigest()[:16]}-{readable}{suffix}"
            target = self.folder / name
            if not target.exists():
                self.folder.mkdir(parents=True, exist_ok=True)
                # Copy to a temporary name, then rename: a crash never leaves half an image.
                handle_fd, temp = tempfile.mkstemp(dir=self.folder, suffix=".part")
                os.close(handle_fd)
                shutil.copyfile(source, temp)
                os.replace(temp, target)
        except OSError as exc:
            raise AttachmentError(
                f"Could not copy {source} into {self.folder} ({exc.strerror or exc}). "
                "Check that the data folder is writable."
            ) from exc
        return name

    def paths(self, names: Sequence[str]) -> tuple[str, ...]:
        return tuple(str(self.folder / name) for name in names)
