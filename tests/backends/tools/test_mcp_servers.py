"""MCP servers through the official SDK: a real stdio server (tests/fixtures/
mcp_stdio_server.py), its tools listed and called, a failing tool, a hung one, a crash, and a
server that cannot start -- none of which raises."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import ToolCall
from backends.tools.mcp_config import McpServerConfig
from backends.tools.mcp_servers import McpServers
from backends.tools.toolbox import Toolbox

pytest.importorskip("mcp")

SERVER = McpServerConfig(
    name="test-tools",
    command=sys.executable,
    args=("-m", "tests.fixtures.mcp_stdio_server"),
    # The SDK gives a stdio server a minimal environment: the test's import path goes along.
    env={"PYTHONPATH": os.pathsep.join(sys.path)},
)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[McpServers]:
    missing = McpServerConfig(name="missing", command=str(tmp_path / "no-such-server"))
    running = McpServers([SERVER, missing], tmp_path / "logs", call_timeout_s=1.0)
    running.start()
    yield running
    running.close()


def call(name: str, **arguments: object) -> ToolCall:
    return ToolCall("c", name, json.dumps(arguments))


def test_tools_listed_called_failing_hung_and_crashed(servers: McpServers, tmp_path: Path) -> None:
    tools, problems = servers.wait_ready(timeout=60)
    assert {t.spec.name for t in tools} == {"add", "slow", "fail", "crash"}
    add = next(t for t in tools if t.spec.name == "add")
    assert add.source == "test-tools" and add.spec.description == "Add two whole numbers."
    assert add.spec.parameters["required"] == ["a", "b"]
    [problem] = problems
    assert "MCP server missing could not start" in problem and "goes on" in problem

    box = Toolbox(tools)
    assert box.run(call("add", a=2, b=3)).text == "5"
    failed = box.run(call("fail"))
    assert failed.is_error and "fail" in failed.text
    hung = box.run(call("slow", seconds=30))
    assert hung.is_error and "did not answer within 1 s" in hung.text
    assert box.run(call("add", a=1, b=1)).text == "2"  # the server still answers after a hang
    crashed = box.run(call("crash"))
    assert crashed.is_error and "MCP server test-tools stopped" in crashed.text
    assert "mcp-test-tools.log" in crashed.text
    after = box.run(call("add", a=1, b=1))
    assert after.is_error and "stopped" in after.text
    assert (tmp_path / "logs" / "mcp-test-tools.log").exists()
