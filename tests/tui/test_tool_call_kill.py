"""kill -9 while a tool call waits for the user's approval: the chat ran in a process of its
own (tests/fixtures/tool_call_child.py), and after SIGKILL the store still holds the
question, the thinking and text streamed before the call, and the call with its arguments;
reopened, the chat shows what it showed before, the call as a block marked "not run"."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Collapsible, Static

from backends.settings import load_settings
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.tui.test_chat_screen import chat
from tests.tui.test_chat_tools import tool_blocks
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.message_view import MessageView
from tui.chat.tool_call_view import INTERRUPTED, NOT_RUN, ToolCallView

CHILD_TIMEOUT_S = 180  # a cold child imports the app and starts it on a busy 2-core box


def read_line(process: subprocess.Popen[str]) -> str:
    """The child's first line of output; fails (not hangs) if it never comes."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(CHILD_TIMEOUT_S):
        process.kill()
        pytest.fail(f"the chat process said nothing in {CHILD_TIMEOUT_S} s")
    return process.stdout.readline()


async def test_kill_9_while_a_call_waits_loses_nothing_shown(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("LOCALAI_TUI_DATA_DIR", str(data))
    folder = tmp_path / "allowed"
    folder.mkdir()
    notes = folder / "notes.txt"
    notes.write_text("buy milk", encoding="utf-8")
    openai_server.knobs.reasoning = "The user wants their notes."
    openai_server.knobs.before_calls = "Let me look at your notes."
    openai_server.knobs.tool_calls = [("read_file", {"path": str(notes)})]
    command = [sys.executable, "-m", "tests.fixtures.tool_call_child", str(data)]
    command += [openai_server.base_url, str(folder), "what are my notes?"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        before = json.loads(read_line(child))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert before["call"][0] == "read_file"
    assert [m["role"] for m in before["messages"]] == ["user", "assistant"]
    assert before["messages"][1]["content"] == "Let me look at your notes."
    assert before["messages"][1]["reasoning"].split() == "The user wants their notes.".split()

    # In the store: the question, the thinking and text before the call, the call itself.
    app = make_app(None, load_settings(tools={"allowed_folders": [str(folder)]}))
    conversation = before["conversation"]
    stored = app.store.messages(conversation)
    assert [m.role for m in stored] == ["user", "assistant"]
    question, answer = stored
    assert question.content == "what are my notes?"
    assert (answer.content, answer.reasoning) == (
        before["messages"][1]["content"],
        before["messages"][1]["reasoning"],
    )
    [call] = answer.tools["calls"]  # type: ignore[index]
    assert (call["name"], json.loads(call["arguments"])) == ("read_file", {"path": str(notes)})

    # Reopened: what was on screen, and the call that never ran.
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: chat(app).query("ParamsPanel"), "the chat started")
        chat(app).open_conversation(conversation)
        await until(pilot, lambda: tool_blocks(app) and all(tool_blocks(app)), "the call block")
        after = [
            {"role": v.role, "content": v.content, "reasoning": v.reasoning}
            for v in app.query(MessageView)
            if v.display and v.role != "tool"
        ]
        assert after == before["messages"]
        [block] = tool_blocks(app)
        assert "read_file · app · not run" in block
        assert app.query_one(ToolCallView).content == NOT_RUN


async def test_kill_9_while_a_call_runs_shows_it_interrupted(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The call was allowed and ran (the MCP server's `slow` tool) when the app was killed:
    it showed as running, and reopened it shows as interrupted, with its arguments."""
    pytest.importorskip("mcp")
    data = tmp_path / "data"
    monkeypatch.setenv("LOCALAI_TUI_DATA_DIR", str(data))
    openai_server.knobs.before_calls = "Let me wait."
    openai_server.knobs.tool_calls = [("slow", {"seconds": 600})]
    command = [sys.executable, "-m", "tests.fixtures.tool_call_child", str(data)]
    command += [openai_server.base_url, str(tmp_path), "wait for me", "run"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(  # noqa: S603
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,  # its MCP server goes with it
    )
    try:
        line = read_line(child)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    assert line, "the chat process ended before the call showed as running"
    before = json.loads(line)
    assert before["running"] == ["▶ ⚙ slow · test-tools · running"]
    assert before["messages"][0]["content"] == "wait for me"
    assert before["messages"][1]["content"] == "Let me wait."

    app = make_app(None, load_settings())
    conversation = before["conversation"]
    answer = app.store.messages(conversation)[1]
    [call] = answer.tools["calls"]  # type: ignore[index]
    assert (call["name"], json.loads(call["arguments"])) == ("slow", {"seconds": 600})

    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: chat(app).query("ParamsPanel"), "the chat started")
        chat(app).open_conversation(conversation)
        await until(pilot, lambda: tool_blocks(app) and all(tool_blocks(app)), "the call block")
        after = [
            {"role": v.role, "content": v.content, "reasoning": v.reasoning}
            for v in app.query(MessageView)
            if v.display and v.role != "tool"
        ]
        assert after == before["messages"]
        assert tool_blocks(app) == ["▶ ⚙ slow · test-tools · interrupted"]
        block = app.query_one(ToolCallView)
        assert block.content == INTERRUPTED
        block.query_one(Collapsible).collapsed = False
        await pilot.pause()
        shown = [str(s.render()) for s in block.query(Static)]
        assert any('"seconds": 600' in text for text in shown)
        assert any(text.startswith("Interrupted: the app closed while") for text in shown)
