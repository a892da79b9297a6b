"""The tools panel (alt+t): the app's tools and each MCP server's, switched on and off per
conversation; only what is left on is offered to the model, a call to a tool switched off
is not run, and the switches stay with the conversation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backends.settings import load_settings
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.tui.test_chat_mcp import MCP_SERVER
from tests.tui.test_chat_screen import answered, chat, ready, send
from tests.tui.test_chat_tools import tool_results
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.tool_approval import ToolApprovalScreen
from tui.chat.tools_panel import ToolsPanelScreen

pytest.importorskip("mcp")


def offered(server: LocalOpenAIServer) -> set[str]:
    return {t["function"]["name"] for t in server.requests[-1].get("tools") or []}


async def open_panel(app: LocalAIApp, pilot) -> ToolsPanelScreen:  # type: ignore[no-untyped-def]
    await pilot.press("alt+t")
    await until(pilot, lambda: isinstance(app.screen, ToolsPanelScreen), "the tools panel")
    panel = app.screen
    assert isinstance(panel, ToolsPanelScreen)
    listing = panel.query_one("#tools-list")
    await until(pilot, lambda: listing.option_count > 0, "the tools listed")
    return panel


def lines(panel: ToolsPanelScreen) -> dict[tuple[str, str], tuple[str, bool]]:
    """(source, tool) -> (the line's text, switched on)."""
    listing = panel.query_one("#tools-list")
    shown = {}
    for index in range(listing.option_count):
        option = listing.get_option_at_index(index)
        shown[option.value] = (str(option.prompt), option.value in listing.selected)
    return shown


async def switch(panel: ToolsPanelScreen, pilot, value: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    listing = panel.query_one("#tools-list")
    listing.highlighted = next(
        i for i in range(listing.option_count) if listing.get_option_at_index(i).value == value
    )
    await pilot.press("space")


async def test_switched_off_tools_are_not_offered_nor_run_and_stay_with_the_chat(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCALAI_TUI_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "allowed").mkdir()
    settings = load_settings(
        servers=[{"name": "test", "base_url": openai_server.base_url}],
        mcp_servers=[MCP_SERVER],
        tools={"allowed_folders": [str(tmp_path / "allowed")], "call_timeout_s": 20},
    )
    spec = openai_server.spec()
    app = make_app(spec, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        panel = await open_panel(app, pilot)
        await until(pilot, lambda: ("test-tools", "add") in lines(panel), "the MCP tools")
        shown = lines(panel)
        assert shown[("app", "")] == ("✓ on   The app's tools", True)
        assert shown[("test-tools", "")] == ("✓ on   MCP server test-tools", True)
        assert shown[("test-tools", "add")][0].startswith("    ✓ on   add — ")
        assert "Add two whole numbers." in shown[("test-tools", "add")][0]
        assert all(on for _, on in shown.values())  # everything starts on

        # One tool of the app and a whole MCP server off, before the chat is saved.
        await switch(panel, pilot, ("app", "read_file"))
        await switch(panel, pilot, ("test-tools", ""))
        assert not lines(panel)[("app", "read_file")][1]
        # Read without colour: each line says its state in words, updated as it switches.
        assert lines(panel)[("app", "read_file")][0].startswith("    ✗ off  read_file")
        assert lines(panel)[("test-tools", "")][0] == "✗ off  MCP server test-tools"
        assert lines(panel)[("app", "current_datetime")][0].startswith("    ✓ on   current_")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ToolsPanelScreen), "closed")

        openai_server.knobs.reply = "Hello."
        await send(app, pilot, "hi")
        await answered(app, pilot)
        assert "current_datetime" in offered(openai_server)
        assert not offered(openai_server) & {"read_file", "add", "slow", "fail", "crash"}
        conversation = chat(app).conversation_id
        assert conversation is not None
        assert app.store.tool_switches.off(conversation) == {
            ("app", "read_file"),
            ("test-tools", ""),
        }

        # A model that calls a tool switched off anyway: nothing runs, nothing is asked.
        openai_server.knobs.tool_calls = [("add", {"a": 2, "b": 3})]
        openai_server.knobs.reply = "No adding today."
        await send(app, pilot, "2+3?")
        await answered(app, pilot)
        assert not isinstance(app.screen, ToolApprovalScreen)
        assert "There is no tool named 'add'" in tool_results(openai_server)[-1]

        # A new chat has everything on; the first chat's switches come back with it.
        openai_server.knobs.tool_calls = None
        await pilot.press("ctrl+n")
        panel = await open_panel(app, pilot)
        assert all(on for _, on in lines(panel).values())
        await pilot.press("escape")
        chat(app).open_conversation(conversation)
        panel = await open_panel(app, pilot)
        assert lines(panel)[("test-tools", "")] == ("✗ off  MCP server test-tools", False)
        await switch(panel, pilot, ("test-tools", ""))  # back on
        assert lines(panel)[("test-tools", "")] == ("✓ on   MCP server test-tools", True)
        await pilot.press("escape")
        await send(app, pilot, "and now?")
        await answered(app, pilot)
        assert {"add", "current_datetime"} <= offered(openai_server)
        assert "read_file" not in offered(openai_server)
