"""A round in which the model only calls a tool (no text) shows the call's block and no
empty answer bubble, live and when the chat is reopened."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backends.settings import load_settings
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.tui.test_chat_screen import answered, chat, ready, send
from tests.tui.test_chat_tools import tool_blocks
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.message_view import MessageView
from tui.chat.tool_approval import ToolApprovalScreen


def shown(app: LocalAIApp) -> list[tuple[str, str]]:
    """The messages a user sees, in order (a hidden one takes no room on screen)."""
    return [
        (v.role, v.content) for v in app.query(MessageView) if v.display and v.region.height > 0
    ]


async def test_a_tool_only_round_shows_its_call_block_and_no_empty_answer(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCALAI_TUI_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings(servers=[{"name": "test", "base_url": openai_server.base_url}])
    openai_server.knobs.tool_calls = [("current_datetime", {})]
    openai_server.knobs.reply = "It is now."
    spec = openai_server.spec()
    app = make_app(spec, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        await send(app, pilot, "what time is it?")
        await until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen), "the ask")
        await pilot.press("y")
        await answered(app, pilot)
        await until(pilot, lambda: all(tool_blocks(app)), "the block drawn")
        await pilot.pause()
        roles = [role for role, _ in shown(app)]
        assert roles == ["user", "tool", "assistant"]  # no empty bubble before the block
        assert shown(app)[-1] == ("assistant", "It is now.")
        assert "current_datetime · app · allowed once" in tool_blocks(app)[0]

        conversation = chat(app).conversation_id
        assert conversation is not None
        await pilot.press("ctrl+n")
        chat(app).open_conversation(conversation)
        await until(pilot, lambda: len(tool_blocks(app)) == 1 and all(tool_blocks(app)), "block")
        await pilot.pause()
        assert [role for role, _ in shown(app)] == ["user", "tool", "assistant"]
