"""Generated images in SQLite (one row per PNG), written as each image is saved.

Its own file (`gallery.sqlite3` in the data dir) beside the conversations: the two have nothing
to join, and a damaged one must not take the other down. The PNG on disk holds the same
parameters in its `parameters` chunk, so the table can be rebuilt from the outputs folder.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.errors import StorageError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    prompt TEXT NOT NULL,
    negative_prompt TEXT NOT NULL DEFAULT '',
    parameters TEXT NOT NULL,
    model TEXT NOT NULL,
    seed INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS images_by_time ON images (created_at DESC, id DESC);
"""


@dataclass(frozen=True)
class GalleryImage:
    id: int
    path: str
    prompt: str
    negative_prompt: str
    parameters: str  # the A1111 text, as in the PNG
    model: str
    seed: int
    width: int
    height: int
    created_at: float


class GalleryStore:
    """Every saved image of one user; safe to call from any thread."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(db_path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=5.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # no fsync per image; WAL keeps it safe
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(
                f"Could not open the image gallery {self.path} ({exc}). Check that the folder "
                "is writable, or move the file aside to start a fresh gallery.",
                title="Image gallery error",
            ) from exc

    @classmethod
    def open_default(cls) -> GalleryStore:
        from backends.paths import data_dir

        return cls(data_dir() / "gallery.sqlite3")

    def add(
        self,
        path: Path,
        *,
        prompt: str,
        negative_prompt: str,
        parameters: str,
        model: str,
        seed: int,
        width: int,
        height: int,
        created_at: float | None = None,
    ) -> GalleryImage:
        when = time.time() if created_at is None else created_at
        values = (
            str(path),
            prompt,
            negative_prompt,
            parameters,
            model,
            seed,
            width,
            height,
            when,
        )
        with self._lock:
            cursor = self._write(
                "INSERT INTO images (path, prompt, negative_prompt, parameters, model, seed, "
                "width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        assert cursor.lastrowid is not None
        return GalleryImage(cursor.lastrowid, *values)  # type: ignore[arg-type]

    def images(self, search: str = "", limit: int = 500) -> list[GalleryImage]:
        """Newest first; `search` matches words of the prompt (all of them, any case)."""
        where, args = "", []
        words = search.split()
        if words:
            where = "WHERE " + " AND ".join("prompt LIKE ? ESCAPE '\\'" for _ in words)
            for word in words:
                escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                args.append(f"%{escaped}%")
        with self._lock:
            rows = self._read(
                f"SELECT * FROM images {where} ORDER BY created_at DESC, id DESC LIMIT ?",
                (*args, limit),
            )
        return [GalleryImage(*row) for row in rows]

    def get(self, image_id: int) -> GalleryImage | None:
        with self._lock:
            rows = self._read("SELECT * FROM images WHERE id = ?", (image_id,))
        return GalleryImage(*rows[0]) if rows else None

    def delete(self, image_id: int, *, remove_file: bool = True) -> None:
        """Forget the image and (by default) delete its PNG."""
        image = self.get(image_id)
        if image is None:
            return
        if remove_file:
            try:
                Path(image.path).unlink(missing_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"Could not delete {image.path} ({exc}). Check the file's permissions.",
                    title="Image gallery error",
                ) from exc
        with self._lock:
            self._write("DELETE FROM images WHERE id = ?", (image_id,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: tuple[object, ...]) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, args)
        except sqlite3.Error as exc:
            raise StorageError(
                f"Could not write to the image gallery {self.path} ({exc}). The PNG is on disk; "
                "check free space and permissions.",
                title="Image gallery error",
            ) from exc

    def _read(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(
                f"Could not read the image gallery {self.path} ({exc}).",
                title="Image gallery error",
            ) from exc
