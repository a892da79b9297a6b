"""One answer with tools: stream, run the calls the user allows, send the results back, let
the model go on -- at most `max_rounds` times. No UI: the caller gives the callbacks.

Each round is one `run_answer` into its own stored assistant message (`start_round` makes
it and says where its text goes). The round's last chunk is held until the loop knows
whether another round follows (`more`), so a UI ends "generating" only once. Every call is
put to `ask` before it runs (unless the user said "always" for that tool of that source,
or the tool does not exist); `ask` blocks until the user answers and returns None when the
answer was stopped meanwhile. A tool that hangs is given up after `timeout_s` (its thread
is left to finish on its own; an MCP call is cancelled by its own timeout).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from backends.base import ChatEngine, ChatMessage, GenerationParams, StreamFinished, ToolCall
from backends.chat.session import AnswerChunk, run_answer
from backends.tools.permissions import AlwaysAllowed
from backends.tools.toolbox import Toolbox, ToolResult

Decision = Literal["once", "always", "deny"]
Outcome = Literal["allowed once", "always allowed", "denied", "unknown tool", "stopped"]


@dataclass(frozen=True)
class CallOutcome:
    """A call, who brings the tool, what the user decided, and what came back."""

    call: ToolCall
    source: str
    outcome: Outcome
    result: ToolResult


@dataclass(frozen=True)
class RoundSink:
    """Where one round's answer goes (its stored message and its view)."""

    persist: Callable[[str], None]
    persist_reasoning: Callable[[str], None]
    on_chunk: Callable[[AnswerChunk, bool], None]  # (chunk, more rounds follow)
    persist_calls: Callable[[Sequence[tuple[ToolCall, str]]], None]
    on_sent: Callable[[], None] | None = None  # its request is out (run_answer's on_sent)


class ToolLoop:
    def __init__(
        self,
        toolbox: Toolbox,
        always: AlwaysAllowed,
        *,
        max_rounds: int = 5,
        timeout_s: float = 30.0,
    ) -> None:
        self.toolbox = toolbox
        self.always = always
        self.max_rounds = max_rounds
        self.timeout_s = timeout_s

    def run(
        self,
        engine: ChatEngine,
        chat: list[ChatMessage],
        params: GenerationParams,
        *,
        cancel: threading.Event,
        first: RoundSink,
        start_round: Callable[[], RoundSink | None],
        ask: Callable[[ToolCall, str], Decision | None],
        on_outcome: Callable[[CallOutcome], None],
        on_limit: Callable[[int], None],
        on_start: Callable[[ToolCall, str, Outcome], None] | None = None,
    ) -> StreamFinished | None:
        """Rounds of answer then calls, until an answer without calls, a stop or the limit.

        `on_start` hears of each allowed call as it starts to run (before its outcome), so a
        call cut off by a crash can be told apart from one that never ran."""
        sink: RoundSink | None = first
        rounds = 0
        finished: StreamFinished | None = None
        while sink is not None:
            held: list[AnswerChunk] = []
            text: list[str] = []

            def on_chunk(
                chunk: AnswerChunk,
                sink: RoundSink = sink,
                held: list[AnswerChunk] = held,
                text: list[str] = text,
            ) -> None:
                if chunk.is_last:
                    held.append(chunk)
                    return
                text.append(chunk.text)
                sink.on_chunk(chunk, False)

            finished = run_answer(
                engine,
                chat,
                params,
                cancel=cancel,
                persist=sink.persist,
                persist_reasoning=sink.persist_reasoning,
                on_chunk=on_chunk,
                on_sent=sink.on_sent,
            )
            last = held[-1]
            calls = last.tool_calls if not cancel.is_set() else ()
            limit_hit = bool(calls) and rounds + 1 > self.max_rounds
            more = bool(calls) and not limit_hit
            if calls:
                sink.persist_calls(
                    [(c, self.toolbox.source_of(c.name) or "unknown") for c in calls]
                )
            sink.on_chunk(last, more)
            if limit_hit:
                on_limit(self.max_rounds)
            if not more:
                return finished
            rounds += 1
            chat.append(ChatMessage("assistant", "".join(text), tool_calls=calls))
            for call in calls:
                outcome = self._one(call, cancel, ask, on_start)
                on_outcome(outcome)
                if outcome.outcome == "stopped":
                    return finished
                chat.append(
                    ChatMessage("tool", outcome.result.text, tool_call_id=call.id, name=call.name)
                )
            if cancel.is_set():
                return finished
            sink = start_round()
        return finished

    def _one(
        self,
        call: ToolCall,
        cancel: threading.Event,
        ask: Callable[[ToolCall, str], Decision | None],
        on_start: Callable[[ToolCall, str, Outcome], None] | None = None,
    ) -> CallOutcome:
        source = self.toolbox.source_of(call.name)
        if source is None:
            return CallOutcome(call, "unknown", "unknown tool", self.toolbox.run(call))
        key = AlwaysAllowed.key(source, call.name)
        outcome: Outcome
        if key in self.always:
            outcome = "always allowed"
        else:
            decision = ask(call, source)
            if decision is None or cancel.is_set():
                refusal = ToolResult("The answer was stopped before this call ran.", True)
                return CallOutcome(call, source, "stopped", refusal)
            if decision == "deny":
                refusal = ToolResult(f"The user did not allow this call to {call.name}.", True)
                return CallOutcome(call, source, "denied", refusal)
            if decision == "always":
                self.always.add(key)
            outcome = "always allowed" if decision == "always" else "allowed once"
        if on_start is not None:
            on_start(call, source, outcome)
        return CallOutcome(call, source, outcome, self._run_with_timeout(call))

    def _run_with_timeout(self, call: ToolCall) -> ToolResult:
        if self.toolbox.times_out_itself(call.name):
            return self.toolbox.run(call)  # an MCP call: no watcher thread (a hop saved)
        box: list[ToolResult] = []
        worker = threading.Thread(
            target=lambda: box.append(self.toolbox.run(call)), name="tool-call", daemon=True
        )
        worker.start()
        worker.join(self.timeout_s)
        if box:
            return box[0]
        return ToolResult(
            f"{call.name} did not answer within {self.timeout_s:g} s and was given up. "
            "The tool may be hung; try again later.",
            True,
            self.timeout_s,
        )


def replace_params_tools(params: GenerationParams, toolbox: Toolbox) -> GenerationParams:
    return dataclasses.replace(params, tools=toolbox.specs())
