"""A picture of the chat with a picture made by /image, reopened from the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import ModelSpec
from tests.fixtures.images import write_png
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.chat_screen import ChatScreen
from tui.chat.message_images import MessageImages
from tui.chat.picture_message import PictureBody
from tui.chat.prompt_input import PromptInput


def test_chat_with_an_inline_picture(
    snap_compare,  # type: ignore[no-untyped-def]
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reopened chat: the user's question, then "Picture · tiny-sd" with a 32-cell red
    square (a white diagonal) drawn in half-cells, its caption "64×64 · seed 42 · 1.3 s ·
    gallery #1" and the hint "Enter parameters · a attach to the next message", then the
    answer of Model A about it ("7 tokens")."""
    monkeypatch.setattr(MessageImages, "renderer", "halfcell")
    app = make_app(model_a)  # a scripted chat model: no real load racing the picture
    png = write_png(tmp_path / "images" / "120000-42.png", size=64)
    store = app.store
    conversation = store.create_conversation("a red square", model_key=None)
    store.add_message(conversation, "user", "Draw me a red square, please.")
    picture = store.add_message(
        conversation, "picture", "a red square", model_key="diffusers:tiny-sd", images=[png]
    )
    store.set_message_stats(
        picture,
        {
            "gallery_id": 1, "path": str(png), "model": "tiny-sd", "seed": 42, "width": 64,
            "height": 64, "parameters": "a red square\nSteps: 3, Seed: 42", "seconds": 1.3,
        },
    )  # fmt: skip
    answer = store.add_message(
        conversation, "assistant", "Here it is: a red square.", model_key="a"
    )
    store.set_message_stats(answer, {"finish_reason": "stop", "completion_tokens": 7})

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        app.query_one(PromptInput).cursor_blink = False
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await until(pilot, lambda: screen.query("ParamsPanel"), "the chat started")
        await until(pilot, lambda: screen.status.text.endswith("ready"), "model A loaded")
        screen.open_conversation(conversation)
        await until(pilot, lambda: screen.query(PictureBody), "the picture")
        await until(pilot, lambda: screen.query(".picture-image"), "drawn")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
