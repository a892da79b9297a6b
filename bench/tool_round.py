"""A tool call through the app ÷ the same MCP tool called bare, measured side by side.

- bare: the official SDK's `ClientSession.call_tool("add")` awaited in a loop, on its own
        connection to the fixture stdio server (tests/fixtures/mcp_stdio_server.py);
- app:  what a tool round adds around the call: `ToolLoop._run_with_timeout` (a thread per
        call, so a hung tool can be given up) -> `Toolbox.run` (argument parsing, errors
        as results) -> `McpServers.call` (from a worker thread into the MCP event loop
        thread), on a second connection to the same server.

The two alternate in blocks, so a busy machine slows both alike. The model's own time is not
in either (it is the same for both). Target: app ÷ bare <= 1.05, plus <= 20 ms per call.

    PYTHONPATH=$PWD python bench/tool_round.py [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backends.base import ToolCall  # noqa: E402
from backends.tools.mcp_config import McpServerConfig  # noqa: E402
from backends.tools.mcp_servers import McpServers  # noqa: E402
from backends.tools.permissions import AlwaysAllowed  # noqa: E402
from backends.tools.tool_loop import ToolLoop  # noqa: E402
from backends.tools.toolbox import Toolbox  # noqa: E402

ENV = {"PYTHONPATH": os.pathsep.join(sys.path)}
ARGS = ("-m", "tests.fixtures.mcp_stdio_server")


def bare_calls(
    count: int,
    blocks: int,
    ready: threading.Event,
    turn: list[threading.Event],
    done: list[threading.Event],
    out: list[float],
) -> None:
    async def main() -> None:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client

        params = StdioServerParameters(command=sys.executable, args=list(ARGS), env=ENV)
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    ready.set()
                    for block in range(blocks):
                        await asyncio.to_thread(turn[block].wait)
                        for _ in range(count):
                            started = time.perf_counter()
                            await session.call_tool("add", {"a": 2, "b": 3})
                            out.append(time.perf_counter() - started)
                        done[block].set()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--blocks", type=int, default=4)
    args = parser.parse_args()
    count, blocks = args.calls // args.blocks, args.blocks
    with tempfile.TemporaryDirectory() as tmp:
        servers = McpServers(
            [McpServerConfig("bench", sys.executable, ARGS, ENV)], Path(tmp) / "logs"
        )
        servers.start()
        tools, problems = servers.wait_ready(60)
        assert not problems, problems
        loop = ToolLoop(Toolbox(tools), AlwaysAllowed(Path(tmp) / "p.json"))
        call = ToolCall("c", "add", '{"a": 2, "b": 3}')
        ready = threading.Event()
        turn = [threading.Event() for _ in range(blocks)]
        done = [threading.Event() for _ in range(blocks)]
        bare: list[float] = []
        thread = threading.Thread(
            target=bare_calls, args=(count, blocks, ready, turn, done, bare), daemon=True
        )
        thread.start()
        ready.wait(60)
        app: list[float] = []
        for _ in range(20):  # warm both paths
            loop._run_with_timeout(call)
        for block in range(blocks):
            for _ in range(count):
                started = time.perf_counter()
                result = loop._run_with_timeout(call)
                app.append(time.perf_counter() - started)
                assert result.text == "5", result
            turn[block].set()
            done[block].wait(120)
        thread.join(30)
        servers.close()
    bare_ms = statistics.median(bare) * 1000
    app_ms = statistics.median(app) * 1000
    print(f"calls: {len(app)} app, {len(bare)} bare (median per call)")
    print(f"bare SDK call_tool:  {bare_ms:7.2f} ms")
    print(f"through the app:     {app_ms:7.2f} ms")
    print(f"app ÷ bare: {app_ms / bare_ms:.2f}   app − bare: {app_ms - bare_ms:+.2f} ms")


if __name__ == "__main__":
    main()
