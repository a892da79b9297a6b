"""The chat's side of tools: what the loaded model is offered, the ask before each call,
the call blocks under the answer, and the next round's message -- around
backends.tools.tool_loop, which runs in the answer worker.

The worker talks to the screen only through `ToolRoundEvent` messages (posted, so they stay
in order with the answer's own chunks); an approval waits on a Future the modal fills.
"""

from __future__ import annotations

import atexit
import dataclasses
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from textual.message import Message

from backends.base import ChatEngine, ChatMessage, GenerationParams, ToolCall
from backends.chat.session import AnswerChunk
from backends.tools.builtin import AllowedFolders, builtin_tools
from backends.tools.mcp_servers import McpServers
from backends.tools.permissions import AlwaysAllowed
from backends.tools.speech_tool import transcribe_tool
from backends.tools.tool_loop import CallOutcome, Decision, Outcome, RoundSink, ToolLoop
from backends.tools.toolbox import Toolbox
from tui.chat.message_list import MessageList
from tui.chat.message_view import MessageView
from tui.chat.tool_call_view import INTERRUPTED, RUNNING, RUNNING_OUTCOME, ToolCallView

if TYPE_CHECKING:
    from tui.chat.chat_screen import ChatScreen


@dataclass
class ToolRoundEvent(Message):
    """From the answer worker: ask about a call, show a call's outcome, or start a round."""

    kind: Literal["ask", "start", "outcome", "round", "limit", "problem", "end"]
    call: ToolCall | None = None
    source: str = ""
    decided: Future[Decision | None] | None = None
    outcome: CallOutcome | None = None
    message_id: int | None = None
    view: MessageView | None = None
    mounted: threading.Event = field(default_factory=threading.Event)
    rounds: int = 0
    text: str = ""
    info: dict[str, Any] = field(default_factory=dict)


class ToolRounds:
    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        self._toolbox: Toolbox | None = None
        self._told_no_tools: set[str] = set()
        self._mcp: McpServers | None = None
        self._mcp_merged = False
        self._merging = threading.Lock()  # the panel and an answer may both wait for MCP
        self.unsaved_off: set[tuple[str, str]] = set()  # switched off before the first send
        entries = [e.to_config() for e in screen.settings.mcp_servers if e.enabled]
        if entries and screen.settings.tools.enabled:
            from backends.paths import data_dir

            # Connecting starts now, in the background: the SDK's import alone is ~3.5 s.
            self._mcp = McpServers(
                entries, data_dir() / "logs", call_timeout_s=screen.settings.tools.call_timeout_s
            )
            self._mcp.start()
            atexit.register(self._mcp.close)

    @property
    def toolbox(self) -> Toolbox:
        if self._toolbox is None:
            folders = self.screen.settings.tools.allowed_folders
            tools = builtin_tools(folders)
            speech = getattr(self.screen.app, "speech", None)
            if folders and speech is not None:
                tools.append(transcribe_tool(speech, AllowedFolders(folders)))
            self._toolbox = Toolbox.with_builtins(tools)
            if getattr(self.screen.app, "images", None) is not None:
                from tui.chat.picture_tool import picture_tool

                self._toolbox.add(picture_tool(self.screen))
        return self._toolbox

    def close(self) -> None:
        """Leaving the chat: end the MCP servers in the background (stdio ones exit)."""
        if self._mcp is not None:
            threading.Thread(target=self._mcp.close, name="mcp-close", daemon=True).start()

    @property
    def mcp_pending(self) -> bool:
        """MCP servers are set up and their tools not yet added (merge_mcp waits for them)."""
        return self._mcp is not None and not self._mcp_merged

    @property
    def mcp_names(self) -> list[str]:
        """The MCP servers this chat connects to, by name."""
        if self._mcp is None:
            return []
        return [e.name for e in self.screen.settings.mcp_servers if e.enabled]

    def merge_mcp(self) -> list[str]:
        """Add the MCP servers' tools once they are up (a worker thread); their problems."""
        with self._merging:
            if self._mcp is None or self._mcp_merged:
                return []
            self._mcp_merged = True
            tools, problems = self._mcp.wait_ready()
            for tool in tools:
                self.toolbox.add(tool)
            return problems

    def switched_off(self) -> frozenset[tuple[str, str]]:
        """What the tools panel switched off in the chat on screen ((source, "") a source)."""
        conversation = self.screen.conversation_id
        if conversation is None:
            return frozenset(self.unsaved_off)
        if self.unsaved_off:  # chosen before the chat was saved: kept with it now
            for source, tool in self.unsaved_off:
                self.screen.store.tool_switches.switch(conversation, source, tool, on=False)
            self.unsaved_off.clear()
        return self.screen.store.tool_switches.off(conversation)

    def switch(self, source: str, tool: str, on: bool) -> None:
        """The tools panel switched a tool (tool "": a whole source) on or off."""
        conversation = self.screen.conversation_id
        if conversation is not None:
            self.screen.store.tool_switches.switch(conversation, source, tool, on)
        elif on:
            self.unsaved_off.discard((source, tool))
        else:
            self.unsaved_off.add((source, tool))

    def offer(
        self, params: GenerationParams, engine: ChatEngine, name: str, key: str
    ) -> GenerationParams:
        """`params` with the tools, where the loaded model can call them (told once if not)."""
        settings = self.screen.settings.tools
        if not settings.enabled or not (len(self.toolbox) or self._mcp is not None):
            return params
        if not engine.capabilities.tools:
            # Said only to someone who set tools up: the clock alone is not worth a toast
            # on every first message to the demo model.
            set_up = bool(settings.allowed_folders) or self._mcp is not None
            if set_up and key not in self._told_no_tools:
                self._told_no_tools.add(key)
                self.screen.notify(
                    f"{name} cannot call tools (its chat template has no tool format), so "
                    "none are offered. Pick a tool-capable model (Qwen, Llama 3.x, Mistral…) "
                    "to use them.",
                    title="No tools for this model",
                    markup=False,
                )
            return params
        offered = self.toolbox.without(self.switched_off()).specs()
        if offered:
            return dataclasses.replace(params, tools=offered)
        if self._mcp is None or self._mcp_merged:
            return params  # everything is switched off in the tools panel
        # The MCP servers' tools are still to come: the worker waits for them and offers
        # what is left on then (run), so this only says that tools are wanted.
        return dataclasses.replace(params, tools=self.toolbox.specs())

    # -- the worker's side -----------------------------------------------------------------

    def run(
        self,
        engine: ChatEngine,
        chat: list[ChatMessage],
        params: GenerationParams,
        *,
        cancel: threading.Event,
        first: RoundSink,
        make_sink: Callable[[int, MessageView], RoundSink],
        model_key: str | None,
        title: str,
    ) -> None:
        """Run the answer with its tool rounds (in the worker thread)."""
        from backends.paths import data_dir

        screen = self.screen
        settings = screen.settings.tools
        conversation = screen.conversation_id
        assert conversation is not None
        for problem in self.merge_mcp():
            screen.post_message(ToolRoundEvent("problem", text=problem))
        toolbox = self.toolbox.without(screen.store.tool_switches.off(conversation))
        loop = ToolLoop(
            toolbox,
            AlwaysAllowed(data_dir() / "tool_permissions.json"),
            max_rounds=settings.max_rounds,
            timeout_s=settings.call_timeout_s,
        )
        params = dataclasses.replace(params, tools=toolbox.specs())

        def ask(call: ToolCall, source: str) -> Decision | None:
            decided: Future[Decision | None] = Future()
            screen.post_message(ToolRoundEvent("ask", call=call, source=source, decided=decided))
            while not cancel.is_set():
                try:
                    return decided.result(timeout=0.1)
                except TimeoutError:
                    continue
            return None

        running: dict[str, int] = {}  # call id -> its "tool" message, stored as it started

        def on_start(call: ToolCall, source: str, outcome: Outcome) -> None:
            # Stored before it runs, as the crash would leave it: reopened after a kill -9,
            # the call shows as interrupted (tool_call_view.INTERRUPTED), not as never run.
            info = running_info(call, source, outcome)
            message_id = screen.store.add_message(conversation, "tool", INTERRUPTED)
            screen.store.set_message_tools(message_id, info)
            running[call.id] = message_id
            screen.post_message(ToolRoundEvent("start", message_id=message_id, info=info))

        def on_outcome(outcome: CallOutcome) -> None:
            info = outcome_info(outcome)
            message_id = running.pop(outcome.call.id, None)
            if message_id is None:
                message_id = screen.store.add_message(conversation, "tool", outcome.result.text)
            else:
                screen.store.set_message_content(message_id, outcome.result.text)
            screen.store.set_message_tools(message_id, info)
            screen.post_message(ToolRoundEvent("outcome", outcome=outcome, message_id=message_id))

        def start_round() -> RoundSink | None:
            message_id = screen.store.add_message(
                conversation, "assistant", "", model_key=model_key
            )
            view = MessageView("assistant", "", message_id=message_id, title=title)
            event = ToolRoundEvent("round", message_id=message_id, view=view)
            screen.post_message(event)
            while not event.mounted.wait(0.1):
                if cancel.is_set():
                    return None
            return make_sink(message_id, view)

        def on_limit(rounds: int) -> None:
            screen.post_message(ToolRoundEvent("limit", rounds=rounds))

        try:
            loop.run(
                engine,
                chat,
                params,
                cancel=cancel,
                first=first,
                start_round=start_round,
                ask=ask,
                on_outcome=on_outcome,
                on_limit=on_limit,
                on_start=on_start,
            )
        finally:
            # Stopped between rounds (Esc while a tool ran): the last round said "more".
            screen.post_message(ToolRoundEvent("end"))

    # -- the screen's side -----------------------------------------------------------------

    async def show(self, event: ToolRoundEvent) -> None:
        screen = self.screen
        messages = screen.query_one(MessageList)
        if event.kind == "ask" and event.call is not None and event.decided is not None:
            from tui.chat.tool_approval import ToolApprovalScreen

            decided = event.decided

            def answered(decision: str | None) -> None:
                if not decided.done():
                    decided.set_result(decision if decision in ("once", "always") else "deny")  # type: ignore[arg-type]

            screen.app.push_screen(ToolApprovalScreen(event.call, event.source), answered)
        elif event.kind == "start":
            await messages.add(ToolCallView(RUNNING, event.info, message_id=event.message_id))
        elif event.kind == "outcome" and event.outcome is not None:
            info = outcome_info(event.outcome)
            started = [
                v
                for v in messages.query(ToolCallView)
                if event.message_id is not None and v.message_id == event.message_id
            ]
            if started:
                started[0].finish(event.outcome.result.text, info)
            else:
                await messages.add(
                    ToolCallView(event.outcome.result.text, info, message_id=event.message_id)
                )
        elif event.kind == "round" and event.view is not None:
            view = event.view
            view.add_class("-streaming", update=False)
            await messages.add(view)
            view.start_stream()
            screen.answers.next_round(view, event.message_id)
            event.mounted.set()
        elif event.kind == "end":
            await screen.answers.tools_ended()
        elif event.kind == "problem":
            screen.notify(event.text, title="MCP server", severity="warning", markup=False)
        elif event.kind == "limit":
            screen.notify(
                f"The model asked for more tools after {event.rounds} rounds; the answer stops "
                "here. Raise [tools] max_rounds in the config to allow more.",
                title="Tool round limit",
                markup=False,
            )


def outcome_info(outcome: CallOutcome) -> dict[str, Any]:
    """What the store keeps of a call's outcome (StoredMessage.tools of a "tool" message)."""
    return {
        "call_id": outcome.call.id,
        "name": outcome.call.name,
        "arguments": outcome.call.arguments,
        "source": outcome.source,
        "outcome": outcome.outcome,
        "is_error": outcome.result.is_error,
        "elapsed_s": outcome.result.elapsed_s,
    }


def running_info(call: ToolCall, source: str, allowed: Outcome) -> dict[str, Any]:
    """What the store keeps of a call while it runs (its outcome comes to replace it)."""
    return {
        "call_id": call.id,
        "name": call.name,
        "arguments": call.arguments,
        "source": source,
        "outcome": RUNNING_OUTCOME,
        "allowed": allowed,
    }


def calls_info(calls: Sequence[tuple[ToolCall, str]]) -> dict[str, Any]:
    """What the store keeps of an answer's calls (StoredMessage.tools of an answer)."""
    return {
        "calls": [
            {"id": c.id, "name": c.name, "arguments": c.arguments, "source": source}
            for c, source in calls
        ]
    }


__all__ = ["AnswerChunk", "ToolRoundEvent", "ToolRounds", "calls_info"]
