"""Tools in the chat, against the local OpenAI-compatible server streaming `tool_calls`:
every call asks first (once / always / deny), its result goes back and the answer goes on,
the block stays under the answer when the chat reopens, and the round limit holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import ModelSpec, ToolSpec
from backends.settings import Settings, load_settings
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.tui.test_chat_screen import answered, chat, notifications, ready, send, views
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.tool_approval import ToolApprovalScreen
from tui.chat.tool_call_view import ToolCallView


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOCALAI_TUI_DATA_DIR", str(tmp_path / "data"))  # permissions per test
    folder = tmp_path / "allowed"
    folder.mkdir()
    (folder / "notes.txt").write_text("buy milk", encoding="utf-8")
    return folder


def settings_for(server: LocalOpenAIServer, folder: Path, **tools: object) -> Settings:
    return load_settings(
        servers=[{"name": "test", "base_url": server.base_url}],
        tools={"allowed_folders": [str(folder)], **tools},
    )


def tool_blocks(app: LocalAIApp) -> list[str]:
    """The titles of the tool blocks shown (a block still mounting shows as "")."""
    return [
        str(v.query("CollapsibleTitle").first().render()) if v.query("CollapsibleTitle") else ""
        for v in app.query(ToolCallView)
    ]


async def approve(app: LocalAIApp, pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen), "the approval")
    shown = str(app.screen.query_one(".tool-arguments").render())
    assert "notes.txt" in shown  # the arguments are shown before anything runs
    await pilot.press(key)


def tool_results(server: LocalOpenAIServer) -> list[str]:
    return [m["content"] for m in server.requests[-1]["messages"] if m["role"] == "tool"]


async def test_a_call_runs_only_after_allow_and_the_answer_goes_on(
    make_app: Callable[..., LocalAIApp], openai_server: LocalOpenAIServer, notes: Path
) -> None:
    openai_server.knobs.tool_calls = [("read_file", {"path": str(notes / "notes.txt")})]
    openai_server.knobs.reply = "Your notes say: buy milk."
    spec = openai_server.spec()
    app = make_app(spec, settings_for(openai_server, notes))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        await send(app, pilot, "what are my notes?")
        await approve(app, pilot, "y")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Your notes say: buy milk.")
        assert tool_results(openai_server) == ["buy milk"]
        offered = openai_server.requests[0]["tools"]
        assert {t["function"]["name"] for t in offered} >= {"read_file", "current_datetime"}
        await until(pilot, lambda: all(tool_blocks(app)), "the tool block drawn")
        [block] = tool_blocks(app)
        assert "read_file · app · allowed once" in block

        # Deny: the model hears the refusal; nothing is read.
        await send(app, pilot, "again")
        await approve(app, pilot, "n")
        await answered(app, pilot)
        assert "did not allow" in tool_results(openai_server)[-1]
        assert "denied" in tool_blocks(app)[-1]

        # Always: asked once more, then remembered.
        await send(app, pilot, "and again")
        await approve(app, pilot, "a")
        await answered(app, pilot)
        await send(app, pilot, "one more")
        await answered(app, pilot)
        assert not isinstance(app.screen, ToolApprovalScreen)
        assert tool_results(openai_server)[-1] == "buy milk"
        assert tool_blocks(app)[-1].count("always allowed") == 1

        # Reopened, the calls are where they were, and stored as they happened.
        conversation = chat(app).conversation_id
        assert conversation is not None
        stored = app.store.messages(conversation)
        assert [m.role for m in stored[:4]] == ["user", "assistant", "tool", "assistant"]
        assert stored[1].tools["calls"][0]["name"] == "read_file"  # type: ignore[index]
        await pilot.press("ctrl+n")
        chat(app).open_conversation(conversation)
        await until(
            pilot, lambda: len(tool_blocks(app)) == 4 and all(tool_blocks(app)), "the blocks"
        )
        assert "allowed once" in tool_blocks(app)[0]


async def test_the_round_limit_stops_a_model_that_keeps_calling(
    make_app: Callable[..., LocalAIApp], openai_server: LocalOpenAIServer, notes: Path
) -> None:
    openai_server.knobs.tool_calls = [("current_datetime", {})]
    openai_server.knobs.calls_every_turn = True
    spec = openai_server.spec()
    app = make_app(spec, settings_for(openai_server, notes, max_rounds=2))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        await send(app, pilot, "time?")
        for shown in (1, 2):
            await until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen), "the ask")
            await pilot.press("y")
            await until(pilot, lambda n=shown: len(app.query(ToolCallView)) == n, "shown")
        await answered(app, pilot)
        assert len(openai_server.requests) == 3  # the first answer and two more rounds
        assert any("Tool round limit" in n for n in notifications(app))
        assert len(tool_blocks(app)) == 2


async def test_a_model_without_tools_is_told_once_and_offered_none(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, notes: Path
) -> None:
    app = make_app(model_a, load_settings(tools={"allowed_folders": [str(notes)]}))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "hi")
        await answered(app, pilot)
        await send(app, pilot, "hi again")
        await answered(app, pilot)
        told = [n for n in notifications(app) if "cannot call tools" in n]
        assert len(told) == 1
        assert json.dumps(views(app)).count("Hello from") == 2


async def test_escape_while_a_tool_runs_ends_the_answer(
    make_app: Callable[..., LocalAIApp], openai_server: LocalOpenAIServer, notes: Path
) -> None:
    import threading

    from backends.tools.toolbox import OfferedTool

    openai_server.knobs.tool_calls = [("wait", {})]
    spec = openai_server.spec()
    app = make_app(spec, settings_for(openai_server, notes))
    started, release = threading.Event(), threading.Event()

    def wait(_: dict[str, object]) -> str:
        started.set()
        release.wait(10)
        return "waited"

    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        chat(app).answers.tools.toolbox.add(OfferedTool(ToolSpec("wait", "waits"), "app", wait))
        await send(app, pilot, "wait please")
        await until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen), "the ask")
        await pilot.press("y")
        await until(pilot, started.is_set, "the tool running")
        await pilot.press("escape")
        release.set()
        await answered(app, pilot)
        assert chat(app).status.text.endswith("ready")
        assert len(openai_server.requests) == 1  # no round after the stop
