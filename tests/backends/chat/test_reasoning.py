"""Thinking told apart from the answer: split across deltas anywhere, in every marker
format, and only where a reasoning model puts it (the start)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest

from backends.base import (
    ChatEvent,
    ChatMessage,
    GenerationParams,
    ReasoningDelta,
    StreamFinished,
    TextDelta,
)
from backends.chat.reasoning import prompt_opens_thinking, split_reasoning
from backends.chat.session import AnswerChunk, run_answer


def split(pieces: Sequence[str], *, opened: bool = False) -> tuple[str, str]:
    """(thinking, answer) after feeding `pieces` as text deltas."""
    events = split_reasoning((TextDelta(p) for p in pieces), opened=opened)
    thought = answer = ""
    for event in events:
        if isinstance(event, ReasoningDelta):
            assert not answer, "a thought arrived after the answer began"
            thought += event.text
        elif isinstance(event, TextDelta):
            answer += event.text
    return thought, answer


def every_split(text: str) -> Iterator[list[str]]:
    """`text` cut in two at every position, and one character per delta."""
    for cut in range(1, len(text)):
        yield [text[:cut], text[cut:]]
    yield list(text)


THINK = "<think>\nThe user greets me. Reply kindly.\n</think>\n\nHello there!"


@pytest.mark.parametrize("pieces", list(every_split(THINK)))
def test_think_tags_split_anywhere_across_deltas(pieces: list[str]) -> None:
    assert split(pieces) == ("The user greets me. Reply kindly.", "Hello there!")


def test_other_marker_formats() -> None:
    assert split(["<thinking>hmm</thinking>", "Yes."]) == ("hmm", "Yes.")
    harmony = (
        "<|channel|>analysis<|message|>Add two and two.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>4"
    )
    for pieces in every_split(harmony):
        assert split(pieces) == ("Add two and two.", "4")


def test_a_template_that_opened_the_block_in_the_prompt() -> None:
    assert prompt_opens_thinking("<｜Assistant｜><think>\n")
    assert not prompt_opens_thinking("<|im_start|>assistant\n")
    assert split(["Let me see", ".</th", "ink>\n\nSure."], opened=True) == ("Let me see.", "Sure.")


def test_tags_inside_an_answer_stay_as_written() -> None:
    text = "Use <think> tags like this: <think>x</think>."
    assert split([text[:5], text[5:]]) == ("", text)
    assert split(["<", "div>hi</div>"]) == ("", "<div>hi</div>")
    assert split(["  ", "\n"]) == ("", "  \n")  # only blank: nothing is lost


def test_unclosed_thinking_stays_thinking() -> None:
    assert split(["<think>still going", " on"]) == ("still going on", "")


class _Scripted:
    """A minimal engine playing fixed deltas (the scripted-engine fixture lives in tui)."""

    name = "scripted"

    def __init__(self, deltas: list[ChatEvent]) -> None:
        from backends.base import EngineCapabilities

        self.capabilities = EngineCapabilities()
        self.deltas = deltas

    def stream(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[ChatEvent]:
        yield from self.deltas
        yield StreamFinished("stop", 3, len(self.deltas), 0.01, 0.5)


def test_run_answer_keeps_thinking_apart_and_times_both() -> None:
    engine = _Scripted([TextDelta(t) for t in ["<thi", "nk>plan ", "this</th", "ink>Done", "."]])
    saved: dict[str, str] = {}
    chunks: list[AnswerChunk] = []
    finished = run_answer(
        engine,  # type: ignore[arg-type]
        [ChatMessage("user", "hi")],
        GenerationParams(),
        cancel=threading.Event(),
        persist=lambda text: saved.__setitem__("text", text),
        persist_reasoning=lambda text: saved.__setitem__("reasoning", text),
        on_chunk=chunks.append,
        flush_interval=0.0,
    )
    assert saved == {"text": "Done.", "reasoning": "plan this"}
    assert "".join(c.reasoning for c in chunks) == "plan this"
    assert "".join(c.text for c in chunks) == "Done."
    assert finished is not None and finished.first_thought_s is not None
    assert finished.ttft_s is not None and finished.ttft_s >= finished.first_thought_s
    assert finished.thinking_s is not None and finished.thinking_s >= 0
