"""Every tool the model is offered in one place, whoever brings it (the app, an MCP server),
and one way to run a call: never raises, the model gets a result or a sentence saying why not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from backends.base import ToolCall, ToolSpec
from backends.tools.builtin import BuiltinTool, ToolRefused

APP_SOURCE = "app"


@dataclass(frozen=True)
class ToolResult:
    """What a call gave: its text (what the model gets), whether it failed, and timing."""

    text: str
    is_error: bool = False
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class OfferedTool:
    spec: ToolSpec
    source: str  # "app" or the MCP server's name
    run: Callable[[dict[str, Any]], ToolResult | str]
    own_timeout: bool = False  # it gives up by itself (MCP calls): no watcher thread needed


class Toolbox:
    """The tools on offer, by name (a later source does not shadow an earlier name)."""

    def __init__(self, tools: Sequence[OfferedTool] = ()) -> None:
        self._tools: dict[str, OfferedTool] = {}
        for tool in tools:
            self.add(tool)

    @classmethod
    def with_builtins(cls, builtins: Sequence[BuiltinTool]) -> Toolbox:
        return cls([OfferedTool(b.spec, APP_SOURCE, b.run) for b in builtins])

    def add(self, tool: OfferedTool) -> None:
        self._tools.setdefault(tool.spec.name, tool)

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(tool.spec for tool in self._tools.values())

    def by_source(self) -> dict[str, list[ToolSpec]]:
        """The tools grouped by who brings them, in the order they were added."""
        grouped: dict[str, list[ToolSpec]] = {}
        for tool in self._tools.values():
            grouped.setdefault(tool.source, []).append(tool.spec)
        return grouped

    def without(self, off: Collection[tuple[str, str]]) -> Toolbox:
        """The tools left on: (source, name) pairs switched off, a whole source as
        (source, ""), are neither offered nor run (a call to one is an unknown tool)."""
        return Toolbox(
            [
                tool
                for tool in self._tools.values()
                if (tool.source, "") not in off and (tool.source, tool.spec.name) not in off
            ]
        )

    def source_of(self, name: str) -> str | None:
        tool = self._tools.get(name)
        return tool.source if tool else None

    def times_out_itself(self, name: str) -> bool:
        tool = self._tools.get(name)
        return tool is None or tool.own_timeout

    def __len__(self) -> int:
        return len(self._tools)

    def run(self, call: ToolCall) -> ToolResult:
        started = time.perf_counter()
        tool = self._tools.get(call.name)
        if tool is None:
            known = ", ".join(self._tools) or "none"
            return ToolResult(f"There is no tool named {call.name!r}. Tools: {known}.", True)
        try:
            arguments = call.parsed_arguments()
            outcome = tool.run(arguments)
        except ToolRefused as refusal:
            return ToolResult(str(refusal), True, time.perf_counter() - started)
        except ValueError as error:
            return ToolResult(f"The call to {call.name} was not understood: {error}.", True)
        except Exception as error:  # a tool's own failure is the model's to hear about
            text = f"{call.name} failed: {type(error).__name__}: {error}"
            return ToolResult(text, True, time.perf_counter() - started)
        if isinstance(outcome, ToolResult):
            return outcome
        return ToolResult(outcome, False, time.perf_counter() - started)
