"""OpenAICompatEngine against a real local HTTP server that speaks like llama.cpp's."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import (
    ChatMessage,
    GenerationParams,
    LoadOptions,
    Notice,
    ReasoningDelta,
    RequestSent,
    ServerConfig,
    StreamFinished,
    TextDelta,
    ToolCallsRequested,
    ToolSpec,
)
from backends.chat.openai_compat import OpenAICompatEngine
from backends.chat.openai_listing import list_models
from backends.errors import (
    GenerationError,
    LoadCancelled,
    ServerError,
    ServerUnreachable,
    UnsupportedModel,
)
from backends.registry import create_engine
from tests.fixtures.openai_server import OTHER_MODEL, LocalOpenAIServer, generated_words

HELLO = [ChatMessage("user", "Say hello")]


@pytest.fixture
def engine(openai_server: LocalOpenAIServer) -> Iterator[OpenAICompatEngine]:
    engine = OpenAICompatEngine()
    engine.load(openai_server.spec(), LoadOptions())
    yield engine
    engine.unload()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(events: Iterator[object]) -> tuple[str, StreamFinished]:
    text, finished = [], None
    for event in events:
        if isinstance(event, TextDelta):
            text.append(event.text)
        elif isinstance(event, StreamFinished):
            finished = event
    assert finished is not None
    return "".join(text), finished


def test_registry_builds_it() -> None:
    engine = create_engine("openai")
    assert isinstance(engine, OpenAICompatEngine)
    assert engine.capabilities.lists_models and not engine.capabilities.holds_memory
    assert engine.capabilities.cancel


def test_streams_exact_text_and_counts(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    text, finished = _run(engine.stream(HELLO, GenerationParams(max_new_tokens=7, seed=3)))
    assert text == " ".join(generated_words(3, 7))
    assert finished.finish_reason == "length"
    assert finished.completion_tokens == 7
    assert finished.prompt_tokens == 2 + 4  # two words plus the template overhead
    assert finished.ttft_s is not None and finished.ttft_s <= finished.total_s
    sent = openai_server.requests[-1]
    assert sent["max_tokens"] == 7 and "max_completion_tokens" not in sent
    assert sent["stream"] is True and sent["seed"] == 3
    assert sent["top_k"] == 40 and sent["stream_options"] == {"include_usage": True}


def test_every_sampling_parameter_reaches_the_server_in_each_familys_names(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    """Penalty 1.0 (off) is sent too: llama.cpp's server applies 1.1 when it is missing."""
    _run(engine.stream(HELLO, GenerationParams(temperature=0.0, top_p=0.5, top_k=7)))
    sent = openai_server.requests[-1]
    assert sent["temperature"] == 0.0 and sent["top_p"] == 0.5 and sent["top_k"] == 7
    assert sent["repeat_penalty"] == 1.0  # llama.cpp
    assert sent["repetition_penalty"] == 1.0  # vLLM, TGI
    assert sent["frequency_penalty"] == 0.0  # Ollama's OpenAI route: 0 is off
    _run(engine.stream(HELLO, GenerationParams(repetition_penalty=1.3)))
    sent = openai_server.requests[-1]
    assert sent["repeat_penalty"] == 1.3 and sent["repetition_penalty"] == 1.3


def test_a_server_that_refuses_the_extras_is_named_once(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    openai_server.knobs.reject_stream_options = True
    events = list(engine.stream(HELLO, GenerationParams(max_new_tokens=2)))
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert len(notices) == 1 and "refused top k and repetition penalty" in notices[0]
    again = list(engine.stream(HELLO, GenerationParams(max_new_tokens=2)))
    assert not [e for e in again if isinstance(e, Notice)]


def test_role_only_first_chunk_does_not_end_the_answer(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    openai_server.knobs.reply = "Hello there, friend"
    events = list(engine.stream(HELLO, GenerationParams()))
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert deltas == ["Hello", " there,", " friend"]  # nothing empty from the role chunk
    assert isinstance(events[-1], StreamFinished) and events[-1].finish_reason == "stop"


def test_counts_chunks_when_the_server_sends_no_usage(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    openai_server.knobs.usage_in_final_chunk = False
    openai_server.knobs.reject_stream_options = True  # and it rejects include_usage
    text, finished = _run(engine.stream(HELLO, GenerationParams(max_new_tokens=5, seed=1)))
    assert text == " ".join(generated_words(1, 5))
    assert finished.completion_tokens == 5 and finished.prompt_tokens is None
    # The first request carried the extras and got a 400; the retry and later ones don't.
    assert "stream_options" in openai_server.requests[0]
    assert "stream_options" not in openai_server.requests[1]
    _run(engine.stream(HELLO, GenerationParams(max_new_tokens=2)))
    assert len(openai_server.requests) == 3
    assert "top_k" not in openai_server.requests[2]


def test_same_seed_same_text(engine: OpenAICompatEngine) -> None:
    params = GenerationParams(max_new_tokens=12, seed=42)
    first, _ = _run(engine.stream(HELLO, params))
    second, _ = _run(engine.stream(HELLO, params))
    other, _ = _run(engine.stream(HELLO, GenerationParams(max_new_tokens=12, seed=43)))
    assert first == second and first != other


def test_cancel_after_first_delta_keeps_partial(engine: OpenAICompatEngine) -> None:
    cancel = threading.Event()
    text: list[str] = []
    finished = None
    for event in engine.stream(HELLO, GenerationParams(max_new_tokens=200, seed=5), cancel):
        if isinstance(event, TextDelta):
            text.append(event.text)
            cancel.set()
        elif isinstance(event, StreamFinished):
            finished = event
    assert finished is not None and finished.finish_reason == "cancelled"
    assert text == [generated_words(5, 1)[0]]
    assert finished.completion_tokens == 1
    # The engine is still usable after a cancel.
    again, done = _run(engine.stream(HELLO, GenerationParams(max_new_tokens=3, seed=5)))
    assert again == " ".join(generated_words(5, 3)) and done.finish_reason == "length"


class _CancelSeenFirstByWatcher(threading.Event):
    """A cancel event the read loop only sees once the engine's watcher has seen it.

    So the loop cannot notice it between chunks: only the watcher shutting the socket
    down can end a read the server leaves hanging.
    """

    def __init__(self) -> None:
        super().__init__()
        self.watcher_saw_it = False

    def wait(self, timeout: float | None = None) -> bool:
        seen = super().wait(timeout)
        self.watcher_saw_it = self.watcher_saw_it or seen
        return seen

    def is_set(self) -> bool:
        return self.watcher_saw_it and super().is_set()


def test_cancel_while_server_is_silent_ends_promptly(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    # The server sends the role chunk and one word, then goes quiet (as during a long
    # prompt evaluation) and sets our cancel event while we wait for data: the stream must
    # end now, not when the server next sends something.
    cancel = _CancelSeenFirstByWatcher()
    openai_server.knobs.stall_after = 1
    openai_server.knobs.on_stall = cancel.set
    params = GenerationParams(max_new_tokens=50, seed=9)
    text, finished = _run(engine.stream(HELLO, params, cancel))
    assert finished.finish_reason == "cancelled"
    # The word sent just before the cancel may or may not have been read: both are right.
    assert text in ("", generated_words(9, 1)[0])
    assert cancel.watcher_saw_it
    assert not openai_server.stall_ended.is_set()  # the server is still silent


def test_answers_in_a_row_use_one_connection(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    """A stream is read to its end after [DONE], so its connection serves the next answer:
    closed half-read, each answer opened a new one and waited for the server to accept it
    (bench/remote_chat.py: the request reached the server ~5 ms later)."""
    for seed in (1, 2, 3):
        text, finished = _run(engine.stream(HELLO, GenerationParams(max_new_tokens=3, seed=seed)))
        assert text == " ".join(generated_words(seed, 3)) and finished.finish_reason == "length"
    assert len(openai_server.peers) == 3 and len(set(openai_server.peers)) == 1


def test_the_stream_says_when_the_request_is_out_before_the_server_answers(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    """RequestSent comes while the server is still silent (prompt processing), so the app
    can draw the sent message then without slowing the request down."""
    cancel = threading.Event()
    openai_server.knobs.stall_before_headers = True
    events = engine.stream(HELLO, GenerationParams(max_new_tokens=5), cancel)
    assert isinstance(next(events), RequestSent)
    assert openai_server.stalled.wait(5) and not openai_server.stall_ended.is_set()
    assert openai_server.requests[-1]["messages"][-1]["content"] == "Say hello"
    cancel.set()
    rest = list(events)
    assert len(rest) == 1 and isinstance(rest[0], StreamFinished)
    assert rest[0].finish_reason == "cancelled"


def test_cancel_before_the_server_sends_headers_ends_promptly(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    cancel = threading.Event()
    openai_server.knobs.stall_before_headers = True
    openai_server.knobs.on_stall = cancel.set
    events = list(engine.stream(HELLO, GenerationParams(max_new_tokens=5), cancel))
    assert isinstance(events[0], RequestSent)  # it was written; the server then stalled
    assert len(events) == 2 and isinstance(events[1], StreamFinished)
    assert events[1].finish_reason == "cancelled" and events[1].completion_tokens == 0
    assert not openai_server.stall_ended.is_set()  # we did not wait for the server
    # The next message goes through on a fresh connection.
    openai_server.knobs.stall_before_headers = False
    text, _ = _run(engine.stream(HELLO, GenerationParams(max_new_tokens=2, seed=4)))
    assert text == " ".join(generated_words(4, 2))


def test_connection_dropped_mid_stream_keeps_partial_then_raises(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    openai_server.knobs.drop_after = 3
    received: list[str] = []
    with pytest.raises(GenerationError) as caught:
        for event in engine.stream(HELLO, GenerationParams(max_new_tokens=10, seed=2)):
            if isinstance(event, TextDelta):
                received.append(event.text)
    assert "".join(received) == " ".join(generated_words(2, 3))
    assert "dropped after 3 tokens" in caught.value.message
    assert "partial answer is kept" in caught.value.message


def test_server_error_status_is_reported(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    openai_server.knobs.chat_status = 500
    with pytest.raises(ServerError) as caught:
        _run(engine.stream(HELLO, GenerationParams()))
    assert "HTTP 500" in caught.value.message and "Injected failure" in caught.value.message


def test_unreachable_server_says_so() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    spec = LocalOpenAIServer.spec_for(ServerConfig(name="gone", base_url=url), "m")
    with pytest.raises(ServerUnreachable) as caught:
        OpenAICompatEngine().load(spec, LoadOptions())
    message = caught.value.message
    assert message.startswith(f"Cannot reach {url} (")
    assert "connection refused" in message and "Is the server running?" in message


def test_wrong_key_message_never_shows_the_key(openai_server: LocalOpenAIServer) -> None:
    openai_server.knobs.api_key = "sk-right-key"
    wrong = "sk-wrong-secret-123"
    with pytest.raises(ServerError) as caught:
        OpenAICompatEngine().load(openai_server.spec(api_key=wrong), LoadOptions())
    assert caught.value.title == "API key rejected"
    assert "rejected the API key" in caught.value.message
    assert wrong not in caught.value.message and wrong not in repr(caught.value)
    with pytest.raises(ServerError) as missing:
        OpenAICompatEngine().load(openai_server.spec(), LoadOptions())
    assert "needs an API key" in missing.value.message


def test_right_key_is_sent_as_bearer(openai_server: LocalOpenAIServer) -> None:
    openai_server.knobs.api_key = "sk-right-key"
    engine = OpenAICompatEngine()
    engine.load(openai_server.spec(api_key="sk-right-key"), LoadOptions())
    text, _ = _run(engine.stream(HELLO, GenerationParams(max_new_tokens=2, seed=0)))
    assert text == " ".join(generated_words(0, 2))
    assert openai_server.headers[-1]["Authorization"] == "Bearer sk-right-key"
    engine.unload()


def test_wrong_key_found_at_first_message_when_models_are_public(
    openai_server: LocalOpenAIServer,
) -> None:
    # llama.cpp serves /v1/models without a key, so a bad key shows only when chatting.
    openai_server.knobs.api_key = "sk-right-key"
    openai_server.knobs.models_public = True
    engine = OpenAICompatEngine()
    engine.load(openai_server.spec(api_key="sk-wrong"), LoadOptions())
    with pytest.raises(ServerError) as caught:
        _run(engine.stream(HELLO, GenerationParams()))
    assert caught.value.title == "API key rejected" and "sk-wrong" not in str(caught.value)
    engine.unload()


def test_unknown_model_lists_what_the_server_offers(openai_server: LocalOpenAIServer) -> None:
    with pytest.raises(UnsupportedModel) as caught:
        OpenAICompatEngine().load(openai_server.spec(model="no/such-model"), LoadOptions())
    message = caught.value.message
    assert "does not serve 'no/such-model'" in message
    assert openai_server.model in message and OTHER_MODEL in message


def test_model_removed_from_server_after_load(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    openai_server.knobs.models = [OTHER_MODEL]
    with pytest.raises(UnsupportedModel) as caught:
        _run(engine.stream(HELLO, GenerationParams()))
    assert "no longer serves" in caught.value.message


def test_list_models(openai_server: LocalOpenAIServer) -> None:
    assert list_models(openai_server.server_config()) == sorted([openai_server.model, OTHER_MODEL])
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    with pytest.raises(ServerUnreachable):
        list_models(ServerConfig(name="gone", base_url=url), timeout=1.0)


def test_unload_closes_and_stream_then_refuses(engine: OpenAICompatEngine) -> None:
    assert engine.loaded and engine.memory_footprint().ram_bytes == 0
    engine.unload()
    engine.unload()
    assert not engine.loaded
    with pytest.raises(GenerationError):
        _run(engine.stream(HELLO, GenerationParams()))


def test_load_reports_progress_and_honours_cancel(openai_server: LocalOpenAIServer) -> None:
    messages: list[str] = []
    engine = OpenAICompatEngine()
    engine.load(openai_server.spec(), LoadOptions(), progress=lambda p: messages.append(p.message))
    assert messages[0].startswith("Connecting to test") and messages[-1].endswith(
        openai_server.model
    )
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(LoadCancelled):
        engine.load(openai_server.spec(), LoadOptions(), cancel=cancel)
    assert not engine.loaded


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_deltas_come_apart_from_the_answer(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer, field: str
) -> None:
    openai_server.knobs.reasoning = "let me think about it"
    openai_server.knobs.reasoning_field = field
    openai_server.knobs.reply = "Answer"
    events = list(engine.stream(HELLO, GenerationParams()))
    thought = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert thought == "let me think about it "
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Answer"]
    finished = events[-1]
    assert isinstance(finished, StreamFinished) and finished.first_thought_s is not None
    assert finished.ttft_s is not None and finished.ttft_s >= finished.first_thought_s


def test_thinking_off_asks_the_server_not_to_think(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    list(engine.stream(HELLO, GenerationParams(thinking=False)))
    body = openai_server.requests[-1]
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["reasoning_effort"] == "low"
    list(engine.stream(HELLO, GenerationParams()))
    assert "chat_template_kwargs" not in openai_server.requests[-1]


def test_server_that_ignores_stream_still_answers(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    openai_server.knobs.ignore_stream = True
    text, finished = _run(engine.stream(HELLO, GenerationParams(max_new_tokens=4, seed=8)))
    assert text == " ".join(generated_words(8, 4))
    assert finished.completion_tokens == 4 and finished.finish_reason == "length"


def test_url_without_v1_gets_a_hint(openai_server: LocalOpenAIServer) -> None:
    bare = openai_server.base_url.removesuffix("/v1")
    with pytest.raises(ServerError) as caught:
        list_models(ServerConfig(name="test", base_url=bare))
    assert f"try {bare}/v1" in caught.value.message


def test_module_imports_neither_textual_nor_torch() -> None:
    code = (
        "import sys, backends.chat.openai_compat, backends.device\n"
        # (httpx itself pulls in rich for its optional CLI when rich is installed.)
        "print(sorted(m for m in ('torch', 'textual', 'tui') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_full_context_window_is_not_reported_as_the_token_limit(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    """Servers say "length" for both; fewer tokens than max_new_tokens means the window."""
    openai_server.knobs.context_window = 6 + 3  # the prompt (6) and room for 3 words
    _, finished = _run(engine.stream(HELLO, GenerationParams(max_new_tokens=7, seed=3)))
    assert finished.finish_reason == "context" and finished.completion_tokens == 3
    openai_server.knobs.context_window = None
    _, finished = _run(engine.stream(HELLO, GenerationParams(max_new_tokens=7, seed=3)))
    assert finished.finish_reason == "length"


def test_tool_calls_stream_in_pieces_and_come_out_whole(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    openai_server.knobs.tool_calls = [("read_file", {"path": "notes.txt"}), ("now", {})]
    tool = ToolSpec("read_file", "Read a file", {"type": "object", "properties": {}})
    assert engine.capabilities.tools
    events = list(engine.stream(HELLO, GenerationParams(tools=(tool,))))
    requested = [e for e in events if isinstance(e, ToolCallsRequested)]
    assert [(c.id, c.name, c.parsed_arguments()) for c in requested[0].calls] == [
        ("call_0", "read_file", {"path": "notes.txt"}),
        ("call_1", "now", {}),
    ]
    finished = events[-1]
    assert isinstance(finished, StreamFinished) and finished.finish_reason == "tool_calls"
    assert openai_server.requests[-1]["tools"][0]["function"]["name"] == "read_file"

    # The calls and their results go back; the server then answers.
    openai_server.knobs.reply = "The notes say hi."
    history = [
        *HELLO,
        ChatMessage("assistant", "", tool_calls=requested[0].calls),
        ChatMessage("tool", "hi", tool_call_id="call_0", name="read_file"),
        ChatMessage("tool", "10:00", tool_call_id="call_1", name="now"),
    ]
    text, _ = _run(engine.stream(history, GenerationParams(tools=(tool,))))
    assert text == "The notes say hi."
    sent = openai_server.requests[-1]["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {
        "name": "read_file",
        "arguments": '{"path": "notes.txt"}',
    }
    assert sent[2] == {
        "role": "tool",
        "tool_call_id": "call_0",
        "name": "read_file",
        "content": "hi",
    }


def test_a_server_that_refuses_tools_answers_without_them(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    openai_server.knobs.reject_tools = True
    openai_server.knobs.reply = "Fine."
    tool = ToolSpec("now", "The time")
    events = list(engine.stream(HELLO, GenerationParams(tools=(tool,))))
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert len(notices) == 1 and "refused tools" in notices[0] and "--jinja" in notices[0]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Fine."]
    assert not engine.capabilities.tools
    assert "tools" not in openai_server.requests[-1]


def test_run_answer_hears_the_request_is_out_while_the_server_is_silent(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    """The chat draws the sent message on `on_sent`: it comes once the request is written,
    not with the first token."""
    from backends.chat.session import AnswerChunk, run_answer

    openai_server.knobs.stall_before_headers = True
    sent, cancel = threading.Event(), threading.Event()
    chunks: list[AnswerChunk] = []
    worker = threading.Thread(
        target=run_answer,
        args=(engine, HELLO, GenerationParams(max_new_tokens=3)),
        kwargs={
            "cancel": cancel,
            "persist": lambda text: None,
            "on_chunk": chunks.append,
            "on_sent": sent.set,
        },
    )
    worker.start()
    assert sent.wait(5)
    assert chunks == [] and not openai_server.stall_ended.is_set()
    cancel.set()
    worker.join(5)
    assert chunks[-1].finished is not None and chunks[-1].finished.finish_reason == "cancelled"


def test_run_answer_hears_of_a_refused_request_before_its_error(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer
) -> None:
    from backends.chat.session import run_answer

    openai_server.knobs.chat_status = 500
    log: list[str] = []
    run_answer(
        engine,
        HELLO,
        GenerationParams(max_new_tokens=3),
        cancel=threading.Event(),
        persist=lambda text: None,
        on_chunk=lambda chunk: log.append("error" if chunk.error else "chunk"),
        on_sent=lambda: log.append("sent"),
    )
    assert log == ["sent", "error"]
