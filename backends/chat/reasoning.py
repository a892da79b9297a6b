"""A reasoning model's thinking, told apart from its answer, for every engine.

Local models write their thinking into the text: `<think>…</think>` (DeepSeek-R1, Qwen3,
QwQ, SmolLM3), `<thinking>…</thinking>`, or gpt-oss's harmony channels
(`<|channel|>analysis<|message|>…<|end|>` then `<|start|>assistant<|channel|>final<|message|>`).
`ReasoningSplitter` turns such a stream into `ReasoningDelta`s and `TextDelta`s as it comes,
holding back only the few characters that could be the start of a marker split across two
deltas. An opening marker counts only at the very start of the output (after whitespace):
reasoning models always begin with it, and an answer that talks *about* `<think>` tags must
stay as written. A chat template that already opened the block in the prompt (DeepSeek-R1
ends its generation prompt with `<think>`) starts the splitter inside it (`opened=True`).

`split_reasoning` applies it to an engine's event stream; `run_answer` does so for every
engine, so a new engine gets thinking shown apart for free. Servers that send
`reasoning_content` yield `ReasoningDelta`s themselves; text after them passes through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from backends.base import (
    ChatEvent,
    GenerationParams,
    ReasoningDelta,
    StreamFinished,
    TextDelta,
)


@dataclass(frozen=True)
class ThinkingMarkers:
    """How one format opens and closes its thinking; `answer_prefix` is dropped after the
    close (harmony's header of the final channel)."""

    open: str
    close: str
    answer_prefix: str = ""


MARKERS: tuple[ThinkingMarkers, ...] = (
    ThinkingMarkers("<think>", "</think>"),
    ThinkingMarkers("<thinking>", "</thinking>"),
    ThinkingMarkers(
        "<|channel|>analysis<|message|>",
        "<|end|>",
        "<|start|>assistant<|channel|>final<|message|>",
    ),
)

# A rendered prompt that ends inside an open thinking block (the template opened it).
_OPEN_AT_END = re.compile(r"<think>\s*$")


def prompt_opens_thinking(prompt: str) -> bool:
    """True when a chat template's generation prompt already opened `<think>`."""
    return _OPEN_AT_END.search(prompt[-64:]) is not None


def thinking_kwargs(params: GenerationParams) -> dict[str, Any]:
    """Chat-template variables for the thinking toggle: Qwen3, SmolLM3, Granite and others
    read `enable_thinking`; a template that does not know it ignores it."""
    return {} if params.thinking else {"enable_thinking": False}


class ReasoningSplitter:
    """Feed text deltas in order; get (kind, text) pieces out, kind "reasoning" or "text"."""

    def __init__(self, *, opened: bool = False) -> None:
        self._state = "thinking" if opened else "start"
        self._markers: ThinkingMarkers | None = MARKERS[0] if opened else None
        self._buffer = ""
        self._fresh = True  # no thought out yet: its leading newlines are dropped

    @property
    def thinking(self) -> bool:
        return self._state == "thinking"

    def feed(self, text: str) -> list[tuple[str, str]]:
        if self._state == "answer":
            return [("text", text)] if text else []
        self._buffer += text
        out: list[tuple[str, str]] = []
        if self._state == "start":
            self._start(out)
        if self._state == "thinking":
            self._think(out)
        if self._state == "prefix":
            self._prefix(out)
        if self._state == "answer" and self._buffer:
            out.append(("text", self._buffer))
            self._buffer = ""
        return out

    def flush(self) -> list[tuple[str, str]]:
        """What is still held back, at the end of the stream."""
        rest, self._buffer = self._buffer, ""
        if not rest:
            return []
        return [("reasoning" if self._state == "thinking" else "text", rest)]

    def _start(self, out: list[tuple[str, str]]) -> None:
        lead = self._buffer.lstrip()
        for markers in MARKERS:
            if lead.startswith(markers.open):
                self._markers = markers
                self._buffer = lead[len(markers.open) :].lstrip("\n")
                self._state = "thinking"
                return
        if lead and not any(m.open.startswith(lead) for m in MARKERS):
            self._state = "answer"  # not a reasoning answer: everything passes from now on

    def _think(self, out: list[tuple[str, str]]) -> None:
        assert self._markers is not None
        close = self._markers.close
        at = self._buffer.find(close)
        if at >= 0:
            thought = self._buffer[:at].rstrip()
            if self._fresh:
                thought = thought.lstrip("\n")
            if thought:
                out.append(("reasoning", thought))
            self._buffer = self._buffer[at + len(close) :]
            self._state = "prefix"
            return
        # Held back: what may begin the close marker, and trailing whitespace (dropped if
        # the close follows it).
        keep = _partial_suffix(self._buffer, close)
        cut = len(self._buffer[: len(self._buffer) - keep].rstrip())
        ready, self._buffer = self._buffer[:cut], self._buffer[cut:]
        if self._fresh:
            ready = ready.lstrip("\n")
        if ready:
            self._fresh = False
            out.append(("reasoning", ready))

    def _prefix(self, out: list[tuple[str, str]]) -> None:
        """After the close: drop the answer's header and the blank lines before it."""
        assert self._markers is not None
        prefix = self._markers.answer_prefix
        lead = self._buffer.lstrip()
        if prefix and lead and prefix.startswith(lead) and lead != prefix:
            return  # maybe the header, still arriving
        if prefix and lead.startswith(prefix):
            lead = lead[len(prefix) :].lstrip()
        if not lead:
            self._buffer = ""
            return  # only blank lines so far: the answer has not started
        self._buffer = lead
        self._state = "answer"


def _partial_suffix(text: str, marker: str) -> int:
    """How many characters at the end of `text` could begin `marker`."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-size:]):
            return size
    return 0


def split_reasoning(events: Iterable[ChatEvent], *, opened: bool = False) -> Iterator[ChatEvent]:
    """`events` with the thinking in their text yielded as ReasoningDeltas.

    An engine that yields ReasoningDeltas itself (a server's `reasoning_content`, or an
    engine that split already) has its text passed through untouched after them.
    """
    splitter: ReasoningSplitter | None = ReasoningSplitter(opened=opened)
    for event in events:
        if isinstance(event, ReasoningDelta):
            if splitter is not None:
                yield from _pieces(splitter.flush())
                splitter = None
            yield event
        elif isinstance(event, TextDelta) and splitter is not None:
            yield from _pieces(splitter.feed(event.text))
        else:
            if isinstance(event, StreamFinished) and splitter is not None:
                yield from _pieces(splitter.flush())
            yield event
    if splitter is not None:  # a stream that ended without its StreamFinished
        yield from _pieces(splitter.flush())


def as_events(splitter: ReasoningSplitter | None, text: str | None) -> Iterator[ChatEvent]:
    """`text` as events through `splitter` (None: as an answer); None flushes it."""
    if splitter is None:
        if text:
            yield TextDelta(text)
        return
    yield from _pieces(splitter.flush() if text is None else splitter.feed(text))


def _pieces(pieces: list[tuple[str, str]]) -> Iterator[ChatEvent]:
    for kind, text in pieces:
        yield ReasoningDelta(text) if kind == "reasoning" else TextDelta(text)
