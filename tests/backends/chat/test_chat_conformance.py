"""One contract, every chat engine: stream, stop, seed, unload, clear errors.

Each case is (engine name, the name of a fixture giving a ModelSpec, hosted). Local
engines run in an engine host process (as in the app) and, for the in-process escape
hatch tests and benchmarks use, in this process too. The tiny models never choose an
end-of-sequence token, so a stream runs to `max_new_tokens`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import (
    ChatEngine,
    ChatEvent,
    ChatMessage,
    GenerationParams,
    LoadOptions,
    ModelSpec,
    Notice,
    RequestSent,
    ServerConfig,
    StreamFinished,
    TextDelta,
)
from backends.errors import BackendError, ModelNotFound
from backends.registry import create_engine

pytestmark = pytest.mark.slow

ENGINE_CASES = [
    pytest.param(("transformers", "tiny_llama_spec", True), id="transformers"),
    pytest.param(("llama_cpp", "tiny_gguf_spec", True), id="llama_cpp"),
    pytest.param(("llama_cpp", "tiny_gguf_q8_spec", True), id="llama_cpp-q8_0"),
    pytest.param(("transformers", "tiny_llama_spec", False), id="transformers-in-process"),
    pytest.param(("llama_cpp", "tiny_gguf_q8_spec", False), id="llama_cpp-q8_0-in-process"),
    pytest.param(("openai", "openai_server_spec", None), id="openai"),
]

MESSAGES = [
    ChatMessage("system", "You are terse."),
    ChatMessage("user", "Say something."),
]


Case = tuple[str, ModelSpec, "bool | None"]


@pytest.fixture(scope="module", params=ENGINE_CASES)
def engine_case(request: pytest.FixtureRequest) -> Case:
    engine_name, spec_fixture, hosted = request.param
    spec: ModelSpec = request.getfixturevalue(spec_fixture)
    return engine_name, spec, hosted


def _create(engine_case: Case) -> ChatEngine:
    engine_name, _, hosted = engine_case
    return create_engine(engine_name, hosted=hosted)


@pytest.fixture(scope="module")
def loaded_engine(engine_case: Case) -> Iterator[ChatEngine]:
    """One loaded engine per case, shared by the tests that only stream."""
    _, spec, _ = engine_case
    engine = _create(engine_case)
    engine.load(spec, LoadOptions(n_ctx=512))
    yield engine
    engine.unload()


def _collect(
    engine: ChatEngine, params: GenerationParams, cancel: threading.Event | None = None
) -> list[ChatEvent]:
    return list(engine.stream(MESSAGES, params, cancel))


def _text(events: list[ChatEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_engine_honours_the_protocol(loaded_engine: ChatEngine) -> None:
    assert isinstance(loaded_engine, ChatEngine)
    assert loaded_engine.loaded
    assert loaded_engine.capabilities.streaming and loaded_engine.capabilities.cancel


def test_stream_yields_deltas_then_one_finish_at_max_new_tokens(
    loaded_engine: ChatEngine, engine_case: Case
) -> None:
    events = _collect(loaded_engine, GenerationParams(max_new_tokens=12, seed=1))

    finishes = [e for e in events if isinstance(e, StreamFinished)]
    assert len(finishes) == 1 and events[-1] is finishes[0]
    # An engine that says when its request is out says it once, before anything else.
    sent = [i for i, e in enumerate(events) if isinstance(e, RequestSent)]
    assert sent == ([0] if loaded_engine.capabilities.reports_sent else [])
    assert all(isinstance(e, TextDelta | Notice | RequestSent) for e in events[:-1])
    finish = finishes[0]
    assert finish.finish_reason == "length"
    assert finish.completion_tokens == 12
    if engine_case[1].server is None:  # servers need not report prompt tokens in a stream
        assert finish.prompt_tokens is not None and finish.prompt_tokens > 0
    assert _text(events).strip()
    assert finish.ttft_s is not None and 0 <= finish.ttft_s <= finish.total_s


def test_cancel_after_first_delta_stops_and_keeps_partial_text(
    loaded_engine: ChatEngine,
) -> None:
    cancel = threading.Event()
    events: list[ChatEvent] = []
    deltas_after_cancel = 0
    for event in loaded_engine.stream(MESSAGES, GenerationParams(max_new_tokens=200), cancel):
        events.append(event)
        if isinstance(event, TextDelta):
            if cancel.is_set():
                deltas_after_cancel += 1
            cancel.set()

    finish = events[-1]
    assert isinstance(finish, StreamFinished)
    assert finish.finish_reason == "cancelled"
    assert deltas_after_cancel == 0
    assert _text(events)  # the partial answer was delivered
    assert 1 <= finish.completion_tokens < 200


def test_same_seed_same_answer_other_seed_other_answer(loaded_engine: ChatEngine) -> None:
    def answer(seed: int) -> str:
        params = GenerationParams(max_new_tokens=24, temperature=1.5, top_k=0, top_p=1.0)
        return _text(_collect(loaded_engine, dataclasses.replace(params, seed=seed)))

    first = answer(7)
    assert answer(7) == first
    assert answer(8) != first


def test_unload_releases_and_stream_after_unload_is_a_clear_error(engine_case: Case) -> None:
    _, spec, _ = engine_case
    engine = _create(engine_case)
    engine.load(spec, LoadOptions(n_ctx=512))
    assert engine.loaded

    engine.unload()
    engine.unload()  # safe twice

    assert not engine.loaded
    assert engine.memory_footprint().ram_bytes == 0
    assert engine.memory_footprint().vram_bytes == 0
    with pytest.raises(BackendError) as raised:
        list(engine.stream(MESSAGES, GenerationParams(max_new_tokens=4)))
    assert "load" in raised.value.message.lower()


def _broken(spec: ModelSpec, tmp_path: Path) -> ModelSpec:
    if spec.server is not None:  # a server nobody listens on
        return dataclasses.replace(
            spec, server=ServerConfig(name="nowhere", base_url="http://127.0.0.1:9/v1")
        )
    return dataclasses.replace(spec, path=str(tmp_path / "no-such-model"))


def test_a_missing_model_is_a_clear_error(engine_case: Case, tmp_path: Path) -> None:
    _, spec, _ = engine_case
    engine = _create(engine_case)

    with pytest.raises(BackendError) as raised:
        engine.load(_broken(spec, tmp_path), LoadOptions(n_ctx=512))

    error = raised.value
    assert error.title and error.message.rstrip().endswith((".", "?"))
    if spec.server is None:
        assert isinstance(error, ModelNotFound)
        assert "no-such-model" in error.message
    assert not engine.loaded
