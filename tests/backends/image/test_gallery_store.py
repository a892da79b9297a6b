"""The gallery table: rows as images are saved, newest first, search by prompt, delete."""

from __future__ import annotations

from pathlib import Path

from backends.store.gallery import GalleryStore


def _add(store: GalleryStore, folder: Path, prompt: str, when: float) -> int:
    path = folder / f"{when}.png"
    path.write_bytes(b"png")
    row = store.add(
        path,
        prompt=prompt,
        negative_prompt="",
        parameters=prompt,
        model="tiny",
        seed=1,
        width=64,
        height=64,
        created_at=when,
    )
    return row.id


def test_newest_first_search_and_delete(tmp_path: Path) -> None:
    store = GalleryStore(tmp_path / "gallery.sqlite3")
    _add(store, tmp_path, "a red cat", 1.0)
    dog = _add(store, tmp_path, "a blue dog", 2.0)
    _add(store, tmp_path, "a red 100% dog", 3.0)

    assert [i.prompt for i in store.images()] == ["a red 100% dog", "a blue dog", "a red cat"]
    assert [i.prompt for i in store.images("RED")] == ["a red 100% dog", "a red cat"]
    assert [i.prompt for i in store.images("dog red")] == ["a red 100% dog"]
    assert [i.prompt for i in store.images("100%")] == ["a red 100% dog"]

    store.delete(dog)

    assert [i.prompt for i in store.images()] == ["a red 100% dog", "a red cat"]
    assert not (tmp_path / "2.0.png").exists()
    store.close()
    reopened = GalleryStore(tmp_path / "gallery.sqlite3")
    assert len(reopened.images()) == 2
