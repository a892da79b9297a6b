"""MCP servers from the config (`[[mcp_servers]]`), through the official `mcp` SDK (the
`tools` extra): stdio servers (command, args, env) and streamable-HTTP ones (url).

The SDK is asyncio and keeps each connection inside one task, so the servers live in one
background thread running an event loop, one task per server that connects, lists its
tools and then holds the session open until `close`. Callers stay synchronous: `wait_ready`
gives the tools (and a sentence per server that did not come up), `call` runs one call
with a timeout. A stdio server's stderr goes to a log file (the SDK's default is the
terminal the TUI draws on; a failing tool prints a traceback there).

Nothing here raises to the caller: a server that fails to start, crashes or hangs becomes
a problem sentence or an error result the model reads, and the conversation goes on.
`import mcp` costs ~3.5 s of CPU on a busy 2-core box, so it happens in that thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.base import ToolSpec
from backends.tools.mcp_config import McpServerConfig
from backends.tools.toolbox import OfferedTool, ToolResult

log = logging.getLogger(__name__)

INSTALL_HINT = "Install the MCP SDK: pip install 'localai-tui[tools]'."


@dataclass
class _Server:
    config: McpServerConfig
    ready: threading.Event = field(default_factory=threading.Event)
    session: Any = None
    tools: list[Any] = field(default_factory=list)
    problem: str | None = None
    log_path: Path | None = None


class McpServers:
    def __init__(
        self,
        configs: Sequence[McpServerConfig],
        log_dir: Path,
        *,
        start_timeout_s: float = 20.0,
        call_timeout_s: float = 30.0,
    ) -> None:
        self._servers = {c.name: _Server(c) for c in configs}
        self._log_dir = log_dir
        self.start_timeout_s = start_timeout_s
        self.call_timeout_s = call_timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start(self) -> None:
        """Connect to every server in the background (returns at once)."""
        if self._thread is None and self._servers:
            self._thread = threading.Thread(target=self._run, name="mcp-servers", daemon=True)
            self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> tuple[list[OfferedTool], list[str]]:
        """The tools of the servers that came up, and a sentence per server that did not."""
        deadline = time.monotonic() + (self.start_timeout_s if timeout is None else timeout)
        tools: list[OfferedTool] = []
        problems: list[str] = []
        for server in self._servers.values():
            if not server.ready.wait(max(0.0, deadline - time.monotonic())):
                problems.append(
                    f"MCP server {server.config.name} did not start within "
                    f"{self.start_timeout_s:g} s; its tools are left out.{self._log_hint(server)}"
                )
                continue
            if server.problem is not None:
                problems.append(server.problem)
                continue
            for tool in server.tools:
                spec = ToolSpec(
                    tool.name,
                    tool.description or "",
                    dict(tool.input_schema or {"type": "object", "properties": {}}),
                )
                caller = self._caller(server, tool.name)
                tools.append(OfferedTool(spec, server.config.name, caller, own_timeout=True))
        return tools, problems

    def _caller(self, server: _Server, name: str) -> Any:
        return lambda arguments: self.call(server.config.name, name, arguments)

    def call(self, server_name: str, tool: str, arguments: dict[str, Any]) -> ToolResult:
        started = time.perf_counter()
        server = self._servers.get(server_name)
        loop = self._loop
        if server is None or loop is None or server.session is None:
            why = server.problem if server is not None and server.problem else "is not running"
            return ToolResult(f"MCP server {server_name} {why}", True)
        future = asyncio.run_coroutine_threadsafe(self._call(server, tool, arguments), loop)
        try:
            return future.result(self.call_timeout_s + 2.0)
        except TimeoutError:
            future.cancel()
            return ToolResult(
                f"{tool} on MCP server {server_name} did not answer within "
                f"{self.call_timeout_s:g} s; the call was given up.",
                True,
                time.perf_counter() - started,
            )

    async def _call(self, server: _Server, tool: str, arguments: dict[str, Any]) -> ToolResult:
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(
                server.session.call_tool(tool, arguments), self.call_timeout_s
            )
        except TimeoutError:
            return ToolResult(
                f"{tool} on MCP server {server.config.name} did not answer within "
                f"{self.call_timeout_s:g} s; the call was given up.",
                True,
                time.perf_counter() - started,
            )
        except Exception as error:  # a crash closes the connection: the server is gone
            server.session = None
            server.problem = (
                f"MCP server {server.config.name} stopped ({_describe(error)})."
                f"{self._log_hint(server)}"
            )
            return ToolResult(
                f"{tool} failed: {server.problem}", True, time.perf_counter() - started
            )
        return _result(result, time.perf_counter() - started)

    def close(self) -> None:
        loop, closing = self._loop, self._closing
        if loop is not None and closing is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(closing.set)
        if self._thread is not None:
            self._thread.join(5.0)

    # -- the background thread -------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:
            log.exception("the MCP thread ended")
        finally:
            for server in self._servers.values():
                server.ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        try:
            import mcp  # noqa: F401
        except ImportError:
            for server in self._servers.values():
                server.problem = (
                    f"MCP server {server.config.name} needs the mcp package. {INSTALL_HINT}"
                )
                server.ready.set()
            return
        await asyncio.gather(*(self._serve(s) for s in self._servers.values()))

    async def _serve(self, server: _Server) -> None:
        from mcp import ClientSession

        config = server.config
        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await self._connect(stack, server)
                session = await stack.enter_async_context(ClientSession(read, write))
                await asyncio.wait_for(session.initialize(), self.start_timeout_s)
                listing = await asyncio.wait_for(session.list_tools(), self.start_timeout_s)
                server.tools, server.session = list(listing.tools), session
                server.ready.set()
                assert self._closing is not None
                await self._closing.wait()
                server.session = None
        except BaseException as error:  # the SDK raises exception groups from its tasks
            server.session = None
            if server.problem is None:
                what = "could not start" if not server.ready.is_set() else "stopped"
                server.problem = (
                    f"MCP server {config.name} {what} ({_describe(error)})."
                    f"{self._log_hint(server)} The chat goes on without its tools."
                )
            server.ready.set()
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise

    async def _connect(self, stack: contextlib.AsyncExitStack, server: _Server) -> Any:
        config = server.config
        if config.command:
            from mcp import StdioServerParameters
            from mcp.client.stdio import stdio_client

            self._log_dir.mkdir(parents=True, exist_ok=True)
            server.log_path = self._log_dir / f"mcp-{_safe(config.name)}.log"
            errlog = stack.enter_context(server.log_path.open("a", encoding="utf-8"))
            params = StdioServerParameters(
                command=config.command, args=list(config.args), env=dict(config.env) or None
            )
            return await stack.enter_async_context(stdio_client(params, errlog=errlog))
        if config.url:
            from mcp.client.streamable_http import streamable_http_client

            streams = await stack.enter_async_context(streamable_http_client(config.url))
            return streams[0], streams[1]
        raise ValueError("it has neither a command nor a url")

    @staticmethod
    def _log_hint(server: _Server) -> str:
        return f" Its log: {server.log_path}." if server.log_path is not None else ""


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name) or "server"


def _describe(error: BaseException) -> str:
    """The innermost message of an exception (group)."""
    while getattr(error, "exceptions", None):  # an exception group (Python 3.11+)
        error = error.exceptions[0]  # type: ignore[attr-defined]
    text = str(error) or type(error).__name__
    if isinstance(error, FileNotFoundError):
        text = f"the command was not found: {error.filename or text}"
    return text


def _result(result: Any, elapsed: float) -> ToolResult:
    parts: list[str] = []
    for item in getattr(result, "content", None) or []:
        kind = getattr(item, "type", "")
        if kind == "text":
            parts.append(str(getattr(item, "text", "")))
        elif kind == "image":
            parts.append(f"[image: {getattr(item, 'mime_type', 'image')}]")
        else:
            parts.append(f"[{kind or 'content'}]")
    text = "\n".join(parts)
    if not text and getattr(result, "structured_content", None) is not None:
        import json

        text = json.dumps(result.structured_content)
    return ToolResult(text or "(no output)", bool(getattr(result, "is_error", False)), elapsed)
