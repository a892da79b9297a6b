"""The answer worker: runs in a thread, touches no widget, posts `AnswerUpdated`.

`backends.chat.session.run_answer` saves the text so far before each batch reaches the
screen (as `AnswerUpdated` messages, the end of the stream included, so it can never
overtake the text); with tools offered, rounds of answers and calls run through
`ToolRounds` (tool_rounds.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from backends.base import ChatEngine, ChatMessage, GenerationParams, ModelSpec
from backends.chat.session import AnswerChunk, run_answer
from backends.errors import BackendError
from backends.tools.tool_loop import RoundSink
from backends.trace import mark
from tui.chat.message_view import MessageView
from tui.chat.tool_rounds import ToolRounds, calls_info

if TYPE_CHECKING:
    from collections.abc import Callable

    from tui.chat.chat_host import ChatHost


@dataclass
class AnswerUpdated(Message):
    """A batch of an answer (or its end), posted by the answer worker to the screen."""

    view: MessageView
    message_id: int
    chunk: AnswerChunk
    more: bool = False  # the last chunk of a round whose tool calls lead to another round


def run_answer_in_thread(
    screen: ChatHost,
    tools: ToolRounds,
    chat: list,  # type: ignore[type-arg]
    params: GenerationParams,
    view: MessageView,
    message_id: int,
    cancel: threading.Event,
    view_ready: threading.Event,
    on_sent: Callable[[], None],
) -> None:
    """The worker: runs in a thread, touches no widget, posts AnswerUpdated; calls
    `on_sent()` once the request is out, or when the answer ends before it could be."""

    def persist(text: str) -> None:
        screen.store.set_message_content(message_id, text)

    def persist_reasoning(text: str) -> None:
        screen.store.set_message_reasoning(message_id, text)

    def on_chunk(chunk: AnswerChunk) -> None:
        # Text waits until the view streams: regenerate runs in the app's message
        # queue, not the screen's, so the screen could otherwise handle the first
        # chunk before the view is mounted.
        mark("chunk")
        view_ready.wait()
        screen.post_message(AnswerUpdated(view, message_id, chunk))
        mark("posted")

    mark("thread")
    try:
        with screen.manager.engine_in_use() as engine:
            if engine is None:
                on_chunk(AnswerChunk(error=BackendError("No model is loaded.")))
                return
            if params.tools:
                _run_with_tools(
                    screen,
                    tools,
                    engine,
                    chat,
                    params,
                    view,
                    message_id,
                    cancel,
                    view_ready,
                    on_sent,
                )
                return
            run_answer(
                engine,
                chat,
                params,
                cancel=cancel,
                persist=persist,
                on_chunk=on_chunk,
                persist_reasoning=persist_reasoning,
                on_sent=on_sent,
            )
    finally:
        on_sent()  # no model, or a failure before the request: the UI waits no longer


def _run_with_tools(
    screen: ChatHost,
    tools: ToolRounds,
    engine: ChatEngine,
    chat: list[ChatMessage],
    params: GenerationParams,
    view: MessageView,
    message_id: int,
    cancel: threading.Event,
    view_ready: threading.Event,
    on_sent: Callable[[], None] | None = None,
) -> None:
    """The worker, with tools: rounds of answers and calls (tui/chat/tool_rounds.py)."""
    store = screen.store

    def sink(
        message_id: int, view: MessageView, on_sent: Callable[[], None] | None = None
    ) -> RoundSink:
        def on_chunk(chunk: AnswerChunk, more: bool) -> None:
            mark("chunk")
            view_ready.wait()
            screen.post_message(AnswerUpdated(view, message_id, chunk, more))
            mark("posted")

        return RoundSink(
            persist=lambda text: store.set_message_content(message_id, text),
            persist_reasoning=lambda text: store.set_message_reasoning(message_id, text),
            on_chunk=on_chunk,
            persist_calls=lambda calls: store.set_message_tools(message_id, calls_info(calls)),
            on_sent=on_sent,
        )

    spec = screen.manager.spec
    tools.run(
        engine,
        chat,
        params,
        cancel=cancel,
        first=sink(message_id, view, on_sent),
        make_sink=sink,
        model_key=spec.key if spec else None,
        title=answer_title(spec),
    )


def answer_title(spec: ModelSpec | None) -> str:
    return spec.name if spec else "Assistant"
