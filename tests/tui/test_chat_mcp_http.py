"""A streamable-HTTP MCP server (real SDK, served by the test) used from the chat end to
end: its tools are offered with its name, a call asks first, runs on the server, and the
result goes back to the model, which goes on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backends.settings import load_settings
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.tui.test_chat_screen import answered, ready, send, views
from tests.tui.test_chat_tools import tool_blocks, tool_results
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.tool_approval import ToolApprovalScreen

pytest.importorskip("mcp")


@pytest.fixture
def mcp_url() -> Iterator[str]:
    from tests.fixtures.mcp_http_server import serve_mcp_http

    with serve_mcp_http() as url:
        yield url


async def test_a_streamable_http_server_s_tool_runs_from_the_chat(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    mcp_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCALAI_TUI_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings(
        servers=[{"name": "test", "base_url": openai_server.base_url}],
        mcp_servers=[{"name": "http-tools", "url": mcp_url}],
        tools={"call_timeout_s": 20},
    )
    openai_server.knobs.tool_calls = [("multiply", {"a": 6, "b": 7})]
    openai_server.knobs.reply = "6 times 7 is 42."
    spec = openai_server.spec()
    app = make_app(spec, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        await send(app, pilot, "6*7?")
        await until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen), "the ask")
        asked = app.screen
        assert isinstance(asked, ToolApprovalScreen) and asked.source == "http-tools"
        assert asked.call.name == "multiply"
        await pilot.press("y")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "6 times 7 is 42.")
        assert tool_results(openai_server) == ["42"]
        offered = {t["function"]["name"]: t for t in openai_server.requests[0]["tools"]}
        assert {"multiply", "shout"} <= set(offered)
        assert "Multiply two whole numbers." in offered["multiply"]["function"]["description"]
        await until(pilot, lambda: all(tool_blocks(app)), "the block drawn")
        assert "multiply · http-tools · allowed once" in tool_blocks(app)[0]
