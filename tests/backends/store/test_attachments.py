"""Images stored with messages: copied once by content, survive the original, migrate old DBs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from backends.store.attachments import AttachmentError
from backends.store.conversations import ConversationStore
from backends.store.schema import _MIGRATIONS
from tests.fixtures.images import write_png


def test_images_are_copied_in_and_listed_with_the_message(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "data" / "c.sqlite3")
    png = write_png(tmp_path / "a.png")
    chat = store.create_conversation("pics")
    first = store.add_message(chat, "user", "look", images=[png, png])
    store.add_message(chat, "assistant", "nice")

    stored = store.messages(chat)
    assert stored[0].id == first
    assert len(stored[0].images) == 2 and stored[0].images[0] == stored[0].images[1]
    assert Path(stored[0].images[0]).read_bytes() == png.read_bytes()
    assert stored[1].images == ()
    assert len(list((tmp_path / "data" / "attachments").iterdir())) == 1  # one copy
    png.unlink()
    assert Path(store.messages(chat)[0].images[0]).is_file()


def test_a_non_image_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    chat = store.create_conversation("x")
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(AttachmentError, match="is not a PNG, JPEG"):
        store.add_message(chat, "user", "see", images=[text])
    with pytest.raises(AttachmentError, match="There is no file at"):
        store.add_message(chat, "user", "see", images=[tmp_path / "gone.png"])
    assert store.messages(chat) == []


def test_a_version_1_database_gains_the_images_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(_MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    db.execute("INSERT INTO conversations (title, created_at, updated_at) VALUES ('old', 1, 1)")
    db.execute(
        "INSERT INTO messages (conversation_id, role, content, created_at) "
        "VALUES (1, 'user', 'hi', 1)"
    )
    db.close()

    store = ConversationStore(path)

    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] >= 2
    assert [(m.content, m.images) for m in store.messages(1)] == [("hi", ())]
