"""A picture of a reopened chat with a reasoning answer that called tools: its folded
thinking section, its call blocks (one of them `generate_image`), the inline picture the
call made, and the answer that followed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import ModelSpec
from tests.fixtures.images import write_png
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.chat_screen import ChatScreen
from tui.chat.message_images import MessageImages
from tui.chat.prompt_input import PromptInput
from tui.chat.tool_call_view import ToolCallView


def test_chat_with_thinking_tool_blocks_and_a_picture(
    snap_compare,  # type: ignore[no-untyped-def]
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The user's question; "Model A" with a folded "Thinking · 2.1 s" line above "Let me
    check the date, then draw it."; two folded call blocks ("⚙ current_datetime · app ·
    always allowed · 2 ms" and "⚙ generate_image · app · allowed once · 1.3 s"), between
    them "Picture · tiny-sd" with a red square (a white diagonal) in half-cells and its
    caption "16×16 · seed 42 · 1.3 s · gallery #1"; then the answer "Here is a red square
    for Monday." (50 rows, so all of it is in view.)"""
    monkeypatch.setattr(MessageImages, "renderer", "halfcell")
    app = make_app(model_a)
    png = write_png(tmp_path / "images" / "120000-42.png", size=16)
    store = app.store
    conversation = store.create_conversation("a red square for today", model_key=None)
    store.add_message(conversation, "user", "Draw a red square for today, please.")
    first = store.add_message(
        conversation, "assistant", "Let me check the date, then draw it.", model_key="a"
    )
    store.set_message_reasoning(first, "The user wants a picture. I need the date first.")
    store.set_message_stats(
        first,
        {"finish_reason": "tool_calls", "completion_tokens": 12, "ttft_s": 0.4,
         "first_thought_s": 0.1, "thinking_s": 2.1, "total_s": 2.6},
    )  # fmt: skip
    calls = [
        {"id": "call_0", "name": "current_datetime", "arguments": "{}", "source": "app"},
        {"id": "call_1", "name": "generate_image", "source": "app",
         "arguments": json.dumps({"prompt": "a red square", "seed": 42})},
    ]  # fmt: skip
    store.set_message_tools(first, {"calls": calls})

    def result(call: dict[str, str], text: str, outcome: str, elapsed: float) -> None:
        info = {"call_id": call["id"], "name": call["name"], "arguments": call["arguments"],
                "source": "app", "outcome": outcome, "is_error": False,
                "elapsed_s": elapsed}  # fmt: skip
        store.set_message_tools(store.add_message(conversation, "tool", text), info)

    result(calls[0], "Monday 7 December 2026, 11:30", "always allowed", 0.002)
    picture = store.add_message(
        conversation, "picture", "a red square", model_key="diffusers:tiny-sd", images=[png]
    )
    store.set_message_stats(
        picture,
        {"gallery_id": 1, "path": str(png), "model": "tiny-sd", "seed": 42, "width": 16,
         "height": 16, "parameters": "a red square\nSteps: 3, Seed: 42", "seconds": 1.3},
    )  # fmt: skip
    result(calls[1], f"The picture was made. File: {png} (16x16 px, seed 42)", "allowed once", 1.3)
    second = store.add_message(
        conversation, "assistant", "Here is a red square for Monday.", model_key="a"
    )
    store.set_message_stats(second, {"finish_reason": "stop", "completion_tokens": 8})

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        app.query_one(PromptInput).cursor_blink = False
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await until(pilot, lambda: screen.query("ParamsPanel"), "the chat started")
        await until(pilot, lambda: screen.status.text.endswith("ready"), "model A loaded")
        screen.open_conversation(conversation)
        await until(pilot, lambda: len(screen.query(ToolCallView)) == 2, "the call blocks")
        await until(pilot, lambda: screen.query(".picture-image"), "the picture drawn")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 50), run_before=run_before)
