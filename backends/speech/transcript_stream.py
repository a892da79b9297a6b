"""A streamed `/v1/audio/transcriptions` answer (`stream=true`) turned into speech events.

Two shapes are read, as the servers send them (each `data:` line one JSON object):
- OpenAI's: `{"type": "transcript.text.delta", "delta": "..."}` per piece of text, then one
  `{"type": "transcript.text.done", "text": "...", "usage": {...}}`. No timestamps: the text
  shows as `PartialText` while it grows, and becomes one segment at `done`.
- speaches' (faster-whisper-server): one `verbose_json` object per decoded segment
  (`language`, `duration`, `text`, `segments: [{start, end, text, ...}]`), no end marker.
A `data: [DONE]` line ends either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from backends.base import ServerConfig
from backends.chat.openai_errors import error_text, redact
from backends.errors import GenerationError, OutOfMemory
from backends.remote.http import is_out_of_memory
from backends.speech.protocol import PartialText, Segment


@dataclass
class StreamState:
    """What the stream said so far: segments made, text not yet in one, the language."""

    segments: list[Segment] = field(default_factory=list)
    pending: str = ""
    language: str | None = None
    duration_s: float | None = None
    finished: bool = False

    @property
    def reached_s(self) -> float:
        return self.segments[-1].end if self.segments else 0.0


def read_payload(
    payload: str, state: StreamState, server: ServerConfig
) -> Iterator[Segment | PartialText]:
    """The events one `data:` payload adds; `state` keeps the running transcript."""
    if payload.strip() == "[DONE]":
        state.finished = True
        return
    try:
        chunk: Any = json.loads(payload)
    except json.JSONDecodeError:
        return  # a keep-alive or a debug line
    if not isinstance(chunk, dict):
        return
    if chunk.get("error"):
        said = redact(error_text(chunk), server)[:300]
        if is_out_of_memory(said):
            raise OutOfMemory(
                f"{server.name} ran out of memory: {said}. The text so far is kept; free "
                "memory on the server (unload a model there) and try again.",
                title="Out of memory on the server",
            )
        raise GenerationError(
            f"{server.name} stopped the transcription: {said}. "
            "The text so far is kept; try again or check the server's log."
        )
    if isinstance(chunk.get("language"), str) and chunk["language"]:
        state.language = chunk["language"]
    kind = chunk.get("type")
    if kind == "transcript.text.delta":
        state.pending += str(chunk.get("delta") or "")
        yield PartialText(state.pending)
    elif kind == "transcript.text.done":
        state.finished = True
        seconds = (chunk.get("usage") or {}).get("seconds")
        if isinstance(seconds, int | float) and seconds > 0:
            state.duration_s = float(seconds)
        text = str(chunk.get("text") or state.pending)
        already = "".join(s.text for s in state.segments)
        rest = text[len(already) :] if text.startswith(already) else text
        if rest.strip():
            start = state.reached_s
            yield _add(state, start, max(start, state.duration_s or start), rest)
        state.pending = ""
    elif isinstance(chunk.get("segments"), list):  # speaches: a verbose_json per segment
        for raw in chunk["segments"]:
            if isinstance(raw, dict) and "text" in raw:
                start, end = float(raw.get("start") or 0.0), float(raw.get("end") or 0.0)
                yield _add(state, start, end, str(raw["text"]))
        state.pending = ""
    elif isinstance(chunk.get("text"), str) and chunk["text"]:  # a `json` chunk: text only
        yield _add(state, state.reached_s, state.reached_s, chunk["text"])


def _add(state: StreamState, start: float, end: float, text: str) -> Segment:
    segment = Segment(len(state.segments), start, end, text)
    state.segments.append(segment)
    return segment
