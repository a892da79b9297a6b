"""run_answer: coalesced chunks, nothing shown left unsaved, the end after the text."""

from __future__ import annotations

import threading

from backends.base import GenerationParams, LoadOptions
from backends.chat.session import AnswerChunk, build_messages, run_answer
from backends.registry import create_engine
from tests.fixtures.scripted_engine import Script, scripted_engines, scripted_spec

__all__ = ["scripted_engines"]


def _engine(scripts: dict[str, Script], tokens: list[str], **kw: object):  # type: ignore[no-untyped-def]
    scripts["m"] = Script(tokens=tokens, **kw)  # type: ignore[arg-type]
    engine = create_engine("scripted")
    engine.load(scripted_spec("m"), LoadOptions())
    return engine, scripts["m"]


def test_every_chunk_is_saved_before_the_next_and_the_end_comes_last(
    scripted_engines: dict[str, Script],
) -> None:
    """Nothing shown is lost: a chunk goes to the screen first (the user waits for it), and
    is saved before the next chunk, or the end, is handed on."""
    engine, _ = _engine(scripted_engines, ["Hel", "lo", ", ", "world"])
    log: list[tuple[str, object]] = []
    chunks: list[AnswerChunk] = []

    def on_chunk(chunk: AnswerChunk) -> None:
        log.append(("shown", chunk.text))
        chunks.append(chunk)

    finished = run_answer(
        engine,
        build_messages("Be brief.", [("user", "hi")]),
        GenerationParams(),
        cancel=threading.Event(),
        persist=lambda text: log.append(("saved", text)),
        on_chunk=on_chunk,
        flush_interval=10.0,  # after the first text, nothing flushes before the end
    )
    assert finished is not None and finished.finish_reason == "stop"
    assert [c.text for c in chunks] == ["Hel", "lo, world", ""]  # first at once, rest coalesced
    assert chunks[-1].finished == finished
    assert log == [
        ("shown", "Hel"),
        ("saved", "Hel"),
        ("shown", "lo, world"),
        ("saved", "Hello, world"),
        ("shown", ""),  # the end: everything shown before it is saved
    ]
    assert finished.completion_tokens == 4


def test_the_first_text_is_handed_on_at_once_by_the_engine_thread(
    scripted_engines: dict[str, Script],
) -> None:
    """No wait for the interval or for a flusher thread: the user is waiting for it."""
    engine, script = _engine(scripted_engines, ["Hel", "lo"], hold_before=1)
    first = threading.Event()
    shown: list[tuple[str, str]] = []

    def on_chunk(chunk: AnswerChunk) -> None:
        shown.append((chunk.text, threading.current_thread().name))
        first.set()

    worker = threading.Thread(
        target=run_answer,
        name="engine-thread",
        args=(engine, build_messages("", [("user", "hi")]), GenerationParams()),
        kwargs={
            "cancel": threading.Event(),
            "persist": lambda text: None,
            "on_chunk": on_chunk,
            "flush_interval": 10.0,
        },
    )
    worker.start()
    assert first.wait(5), "the first text was not handed on"
    assert script.reached_hold.wait(5)  # the engine now waits before its second token
    assert shown == [("Hel", "engine-thread")]
    script.release.set()
    worker.join(5)
    assert [text for text, _ in shown] == ["Hel", "lo", ""]


def test_text_before_a_stall_is_shown_and_saved_during_the_stall(
    scripted_engines: dict[str, Script],
) -> None:
    engine, script = _engine(scripted_engines, ["one ", "two ", "three"], hold_before=2)
    saved: list[str] = []
    shown = threading.Event()
    texts: list[str] = []

    def on_chunk(chunk: AnswerChunk) -> None:
        texts.append(chunk.text)
        if "".join(texts) == "one two ":
            shown.set()

    cancel = threading.Event()
    result: list[object] = []
    worker = threading.Thread(
        target=lambda: result.append(
            run_answer(
                engine,
                build_messages("", [("user", "count")]),
                GenerationParams(),
                cancel=cancel,
                persist=saved.append,
                on_chunk=on_chunk,
                flush_interval=0.01,
            )
        )
    )
    worker.start()
    assert shown.wait(5), "text before the stall never reached the UI"
    assert saved[-1] == "one two "
    cancel.set()  # Esc while the engine is stalled
    worker.join(5)
    finished = result[0]
    assert finished is not None and finished.finish_reason == "cancelled"  # type: ignore[union-attr]
    assert saved[-1] == "one two " and "".join(texts) == "one two "
    assert script.calls[0][-1].content == "count"


def test_an_engine_error_mid_stream_keeps_the_text_and_ends_with_the_error(
    scripted_engines: dict[str, Script],
) -> None:
    from backends.base import TextDelta

    class Broken:
        def stream(self, messages, params, cancel=None):  # type: ignore[no-untyped-def]
            yield TextDelta("partial")
            raise RuntimeError("boom")

    chunks: list[AnswerChunk] = []
    saved: list[str] = []
    result = run_answer(
        Broken(),  # type: ignore[arg-type]
        [],
        GenerationParams(),
        cancel=threading.Event(),
        persist=saved.append,
        on_chunk=chunks.append,
    )
    assert result is None
    assert saved == ["partial"]
    assert chunks[-1].error is not None and "boom" in chunks[-1].error.message


def test_system_prompt_only_when_set() -> None:
    assert [m.role for m in build_messages("  ", [("user", "a")])] == ["user"]
    assert [m.role for m in build_messages("x", [("user", "a"), ("assistant", "b")])] == [
        "system",
        "user",
        "assistant",
    ]


def test_on_sent_comes_at_once_from_an_engine_that_cannot_tell(
    scripted_engines: dict[str, Script],
) -> None:
    """A local engine says nothing of requests: the caller may draw at once, never later
    than the first text."""
    engine, _ = _engine(scripted_engines, ["Hi", "!"])
    log: list[str] = []
    run_answer(
        engine,
        build_messages("", [("user", "hi")]),
        GenerationParams(),
        cancel=threading.Event(),
        persist=lambda text: None,
        on_chunk=lambda chunk: log.append("end" if chunk.is_last else chunk.text),
        on_sent=lambda: log.append("sent"),
    )
    assert log == ["sent", "Hi", "!", "end"]
