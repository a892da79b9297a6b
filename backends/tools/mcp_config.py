"""What the app needs to reach one MCP server (kept apart from the client, which imports
asyncio: settings import this at every start)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class McpServerConfig:
    """One server: a command to run (stdio) or a URL (streamable HTTP)."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None
