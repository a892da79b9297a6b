"""One answer, start to finish, without any UI: stream, coalesce, persist, report.

`run_answer` calls `engine.stream` in the calling (worker) thread. Deltas are gathered and
handed on at most every `flush_interval` seconds (default 40 ms): per-token UI calls slowed a
75 tok/s engine to 55 tok/s on 2 cores. The first text goes at once: it is what the user
waits for. Each hand-off gives `on_chunk` the new text, then persists the whole text so far
(`persist`) in the same step, before any later chunk or the end can go: what the user has
seen is on disk by the time more arrives, and all of it before the end is reported. (Saving
first put a SQLite write, which lets other threads take the GIL, between every token and
the screen.) The end of the stream (stats or an error) travels through the same `on_chunk`
channel, after the last text, so a UI can never see the end before the text.

A flusher thread hands on text that arrived just after a flush when the engine then stalls
(a slow token, a network hiccup), so nothing sits unseen waiting for the next token.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backends.base import (
    DEFAULT_IMAGE_MAX_SIDE,
    ChatEngine,
    ChatMessage,
    GenerationParams,
    ImageAttachment,
    Notice,
    ReasoningDelta,
    RequestSent,
    StreamFinished,
    TextDelta,
    ToolCall,
    ToolCallsRequested,
)
from backends.chat.images import has_images, refuse_images
from backends.chat.reasoning import split_reasoning
from backends.errors import BackendError, GenerationError

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.04


@dataclass(frozen=True)
class AnswerChunk:
    """New text (and thinking) since the previous chunk, notices, and - in the last chunk
    only - the end."""

    text: str = ""
    notices: tuple[str, ...] = ()
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()  # the last chunk: the tools the model asked for
    finished: StreamFinished | None = None
    error: BackendError | None = None

    @property
    def is_last(self) -> bool:
        return self.finished is not None or self.error is not None


def build_messages(
    system_prompt: str,
    history: Sequence[Sequence[Any]],
    *,
    image_max_side: int = DEFAULT_IMAGE_MAX_SIDE,
) -> list[ChatMessage]:
    """The engine's input: the system prompt (if any), then the turns in order.

    A turn is (role, content), (role, content, image paths) or (role, content, image paths,
    tools) where `tools` is what the store keeps of tool calls (StoredMessage.tools): an
    answer's calls, or the call a "tool" turn answers. Pictures go to the model at most
    `image_max_side` px on their longest side (0: as they are). Thinking is not a turn: it
    never goes back to the model.
    """
    messages: list[ChatMessage] = []
    if system_prompt.strip():
        messages.append(ChatMessage("system", system_prompt))
    for turn in history:
        role, content = turn[0], turn[1]
        paths = turn[2] if len(turn) > 2 else ()
        tools: Mapping[str, Any] = (turn[3] if len(turn) > 3 else None) or {}
        if role == "tool":
            call_id, name = tools.get("call_id"), tools.get("name")
            messages.append(ChatMessage("tool", content, tool_call_id=call_id, name=name))
        elif role in ("user", "assistant"):
            images = tuple(
                ImageAttachment(path=str(p), max_side=image_max_side or None) for p in paths
            )
            calls = tuple(
                ToolCall(str(c.get("id")), str(c.get("name")), str(c.get("arguments") or "{}"))
                for c in tools.get("calls") or ()
                if isinstance(c, Mapping)
            )
            messages.append(ChatMessage(role, content, images, tool_calls=calls))
    return messages


@dataclass(frozen=True)
class _Batch:
    text: str
    reasoning: str
    notices: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.text or self.reasoning or self.notices)


class _Coalescer:
    """Gathers events and emits them in batches, at most once per interval.

    Text that finds the buffer empty and the interval already over (the first text of an
    answer, or the first after a quiet spell) is emitted at once from the adding thread:
    handing it to the flusher would cost a thread switch, up to 5 ms each under GIL
    contention, on the path to the user's first token. Text within the interval waits
    for the flusher thread, which starts on first need.
    """

    def __init__(self, interval: float, emit: Callable[[_Batch], None]) -> None:
        self._interval = interval
        self._emit = emit
        self._cond = threading.Condition()
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._notices: list[str] = []
        self._last_flush: float | None = None  # None: nothing emitted yet
        self._closed = False
        self._thread: threading.Thread | None = None

    def add(self, text: str = "", notice: str | None = None, reasoning: str = "") -> None:
        with self._cond:
            idle = not (self._text or self._notices or self._reasoning)
            if text:
                self._text.append(text)
            if reasoning:
                self._reasoning.append(reasoning)
            if notice:
                self._notices.append(notice)
            if not idle:
                # Only an empty buffer has the flusher waiting for text; once it waits for
                # the interval, more text changes nothing. A wake-up per token cost the
                # engine thread ~6 % of its time (py-spy) plus a thread switch per token.
                return
            if self._due() <= 0:
                self._emit(self._take())  # under the lock, as the flusher emits
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="answer-flusher", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _due(self) -> float:
        """Seconds until the next batch may go (<= 0: now)."""
        if self._last_flush is None:
            return 0.0
        return self._last_flush + self._interval - time.monotonic()

    def _take(self) -> _Batch:
        batch = _Batch("".join(self._text), "".join(self._reasoning), tuple(self._notices))
        self._text.clear()
        self._reasoning.clear()
        self._notices.clear()
        self._last_flush = time.monotonic()
        return batch

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._text or self._notices or self._reasoning) and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                due = self._due()
                while due > 0 and not self._closed:
                    self._cond.wait(due)  # only close() wakes this wait early
                    due = self._due()
                if self._closed:
                    return
                batch = self._take()
                # Emit under the lock: close() then waits for an emit in flight, so the
                # final batch and the end of the stream always come after it.
                self._emit(batch)

    def close(self) -> _Batch:
        """Stop the flusher; returns what it had not emitted yet."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
        with self._cond:
            return self._take()


def run_answer(
    engine: ChatEngine,
    messages: Sequence[ChatMessage],
    params: GenerationParams,
    *,
    cancel: threading.Event,
    persist: Callable[[str], None],
    on_chunk: Callable[[AnswerChunk], None],
    flush_interval: float = FLUSH_INTERVAL_S,
    persist_reasoning: Callable[[str], None] | None = None,
    on_sent: Callable[[], None] | None = None,
) -> StreamFinished | None:
    """Stream one answer; returns its stats, or None when it failed (reported via on_chunk).

    The last `on_chunk` call always carries `finished` or `error`. A cancelled stream
    finishes with finish_reason "cancelled" and keeps (and has persisted) its partial text.
    Thinking in the text (`<think>`...) comes apart as `reasoning` (backends.chat.reasoning),
    persisted through `persist_reasoning`; the stats then time the first thought and the
    first answer token apart.

    `on_sent` is called once the request is out (RequestSent, from an engine whose
    capabilities say `reports_sent`), else as the stream starts; in any case before the
    first chunk or the end, so a caller waiting for it never waits longer than that.
    """
    sent = _Once(on_sent)
    if not getattr(getattr(engine, "capabilities", None), "reports_sent", False):
        sent()  # it will not say: the request is as good as out
    if has_images(messages) and not engine.capabilities.vision:
        try:  # refused before anything reaches the engine
            refuse_images(messages, getattr(engine, "name", "This engine"))
        except BackendError as exc:
            sent()
            on_chunk(AnswerChunk(error=exc))
            return None
    text_so_far: list[str] = []
    thought_so_far: list[str] = []

    def emit(batch: _Batch) -> None:
        # Runs under the coalescer's lock: the next batch (and the end) waits for the saves.
        sent()
        on_chunk(AnswerChunk(text=batch.text, notices=batch.notices, reasoning=batch.reasoning))
        if batch.reasoning:
            thought_so_far.append(batch.reasoning)
            if persist_reasoning is not None:
                _persist(persist_reasoning, "".join(thought_so_far))
        if batch.text:
            text_so_far.append(batch.text)
            _persist(persist, "".join(text_so_far))

    started = time.monotonic()
    first_text: float | None = None
    first_thought: float | None = None
    count = 0
    calls: list[ToolCall] = []
    finished: StreamFinished | None = None
    error: BackendError | None = None
    coalescer = _Coalescer(flush_interval, emit)
    try:
        for event in split_reasoning(engine.stream(messages, params, cancel)):
            if isinstance(event, RequestSent):
                sent()
            elif isinstance(event, TextDelta):
                if event.text and first_text is None:
                    first_text = time.monotonic()
                count += 1
                coalescer.add(text=event.text)
            elif isinstance(event, ReasoningDelta):
                if event.text and first_thought is None:
                    first_thought = time.monotonic()
                count += 1
                coalescer.add(reasoning=event.text)
            elif isinstance(event, Notice):
                coalescer.add(notice=event.text)
            elif isinstance(event, ToolCallsRequested):
                calls.extend(event.calls)
            elif isinstance(event, StreamFinished):
                finished = event
    except BackendError as exc:
        error = exc
    except Exception as exc:
        log.exception("stream failed")
        error = GenerationError(
            f"The engine stopped with an unexpected error: {exc}. The partial answer is kept; "
            "try again or switch models."
        )
    finally:
        rest = coalescer.close()
        sent()
    if rest:
        emit(rest)
    if error is not None:
        on_chunk(AnswerChunk(error=error))
        return None
    ended = time.monotonic()
    if finished is None:  # an engine that forgot its StreamFinished: report what we measured
        finished = StreamFinished(
            finish_reason="cancelled" if cancel.is_set() else "stop",
            prompt_tokens=None,
            completion_tokens=count,
            ttft_s=None if first_text is None else first_text - started,
            total_s=ended - started,
        )
    if first_thought is not None:
        # The engine's TTFT counted the first thought as text: time both from here.
        finished = dataclasses.replace(
            finished,
            first_thought_s=first_thought - started,
            ttft_s=None if first_text is None else first_text - started,
            thinking_s=(first_text if first_text is not None else ended) - first_thought,
        )
    on_chunk(AnswerChunk(finished=finished, tool_calls=tuple(calls)))
    return finished


class _Once:
    """Calls `callback` the first time it is called (any thread), never again."""

    def __init__(self, callback: Callable[[], None] | None) -> None:
        self._callback = callback
        self._lock = threading.Lock()

    def __call__(self) -> None:
        if self._callback is None:
            return
        with self._lock:
            callback, self._callback = self._callback, None
        if callback is not None:
            callback()


def _persist(persist: Callable[[str], None], text: str) -> None:
    try:
        persist(text)
    except Exception:  # saving must not end the stream; the store reports its own errors
        log.exception("could not save the partial answer")
