"""The chat screen with real engines and tiny models built offline (slow: they load runtimes)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import Input

from backends.base import ModelSpec
from backends.models.manager import ModelManager
from backends.settings import load_settings
from tests.tui.test_chat_screen import answered, chat, ready, send, views
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.message_view import MessageView

pytestmark = pytest.mark.slow


async def test_a_tiny_gguf_answer_streams_into_the_message_list(
    make_app: Callable[..., LocalAIApp], tiny_gguf_spec: ModelSpec
) -> None:
    app = make_app(tiny_gguf_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, tiny_gguf_spec.key)
        # The manager holds the model a moment before the Loaded message reaches the screen.
        await until(pilot, lambda: "tiny-chat.gguf · llama.cpp" in chat(app).status.text, "status")
        app.query_one("#param-max_new_tokens", Input).value = "12"
        app.query_one("#param-seed", Input).value = "1"
        await send(app, pilot, "hello")
        await answered(app, pilot)
        role, text = views(app)[-1]
        stored = app.store.messages(chat(app).conversation_id)  # type: ignore[arg-type]
        assert role == "assistant" and stored[-1].content == text
        stats = stored[-1].stats or {}
        # Random weights: usually the 12-token limit, but an early end-of-turn is allowed.
        assert 0 < stats["completion_tokens"] <= 12 and text.strip()
        shown = str(app.query(MessageView).last().query_one(".stats").render())
        assert f"→ {stats['completion_tokens']} tokens" in shown and "TTFT" in shown


async def test_switching_from_gguf_to_transformers_by_shortcut_unloads_the_first(
    make_app: Callable[..., LocalAIApp],
    tiny_gguf_spec: ModelSpec,
    tiny_llama_spec: ModelSpec,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    earlier = ModelManager(load_settings(), recents_path=tmp_path / "data" / "recent_models.json")
    earlier._remember(tiny_llama_spec)  # used in an earlier session
    app = make_app(tiny_gguf_spec)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, tiny_gguf_spec.key)
        gguf_engine = app.manager.engine
        await pilot.press("alt+2")
        await ready(app, pilot, tiny_llama_spec.key)
        assert gguf_engine is not None and not gguf_engine.loaded
        assert "transformers" in chat(app).status.text
        app.query_one("#param-max_new_tokens", Input).value = "6"
        await send(app, pilot, "hi")
        await answered(app, pilot)
        assert "→ 6 tokens" in str(app.query(MessageView).last().query_one(".stats").render())
