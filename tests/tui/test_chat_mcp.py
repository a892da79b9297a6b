"""MCP tools in the chat: a real stdio server (tests/fixtures/mcp_stdio_server.py) whose
call is shown with its server before it runs, whose result goes back to the model; a server
that cannot start and one that crashes mid-call leave the chat going."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.settings import load_settings
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.tui.test_chat_screen import answered, notifications, ready, send, views
from tests.tui.test_chat_tools import tool_blocks, tool_results
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.tool_approval import ToolApprovalScreen

pytest.importorskip("mcp")

MCP_SERVER = {
    "name": "test-tools",
    "command": sys.executable,
    "args": ["-m", "tests.fixtures.mcp_stdio_server"],
    "env": {"PYTHONPATH": os.pathsep.join(sys.path)},
}


async def test_mcp_tools_ask_with_their_server_run_and_survive_a_crash(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCALAI_TUI_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings(
        servers=[{"name": "test", "base_url": openai_server.base_url}],
        mcp_servers=[MCP_SERVER, {"name": "broken", "command": str(tmp_path / "nothing")}],
        tools={"call_timeout_s": 20},
    )
    openai_server.knobs.tool_calls = [("add", {"a": 2, "b": 3})]
    openai_server.knobs.reply = "It is 5."
    spec = openai_server.spec()
    app = make_app(spec, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        await send(app, pilot, "2+3?")
        await until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen), "the ask")
        asked = app.screen
        assert isinstance(asked, ToolApprovalScreen) and asked.source == "test-tools"
        await pilot.press("y")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "It is 5.")
        assert tool_results(openai_server) == ["5"]
        offered = {t["function"]["name"] for t in openai_server.requests[0]["tools"]}
        assert {"add", "slow", "fail", "crash", "current_datetime"} <= offered
        assert any("MCP server broken could not start" in n for n in notifications(app))
        await until(pilot, lambda: all(tool_blocks(app)), "the block drawn")
        assert "add · test-tools · allowed once" in tool_blocks(app)[0]

        # The server dies mid-call: the model hears it, the answer goes on.
        openai_server.knobs.tool_calls = [("crash", {})]
        openai_server.knobs.reply = "The tool broke."
        await send(app, pilot, "crash it")
        await until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen), "the ask")
        await pilot.press("y")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "The tool broke.")
        assert "MCP server test-tools stopped" in tool_results(openai_server)[-1]
        await until(pilot, lambda: all(tool_blocks(app)), "the block drawn")
        assert "error" in tool_blocks(app)[-1]
