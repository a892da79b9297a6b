"""Chat with any OpenAI-compatible server: llama.cpp's llama-server, vLLM, Ollama, TGI, LM Studio.

Measured against llama-cpp-python's server (see shared notes), and what peers get wrong:
- The first SSE chunk carries only the role; the loop must keep reading past it.
- llama.cpp honours `max_tokens` and ignores `max_completion_tokens`, so we send `max_tokens`.
- A model id the server does not list must fail loudly at load, naming what it does offer.
Cancellation is checked between chunks; while we wait on a silent server (prompt processing
can take minutes, Ollama loads models on first use) a cancel still returns at once: before
the headers the request runs in a helper thread, after them a watcher shuts the socket down.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import httpx

from backends.base import (
    ChatEvent,
    ChatMessage,
    EngineCapabilities,
    FinishReason,
    GenerationParams,
    LoadOptions,
    LoadProgress,
    MemoryFootprint,
    ModelSpec,
    Notice,
    ProgressCallback,
    ReasoningDelta,
    ServerConfig,
    StreamFinished,
    TextDelta,
    ToolCallsRequested,
)
from backends.chat.images import has_images
from backends.chat.openai_cancel import (
    CancelWatcher,
    finish_reading,
    trace_written,
    unless_cancelled,
)
from backends.chat.openai_errors import (
    dropped_error,
    http_error,
    images_refused,
    unreachable_error,
)
from backends.chat.openai_listing import LIST_TIMEOUT_S, fetch_listing, make_client, pick_model
from backends.chat.openai_modalities import (
    mentions_images,
    vision_from_listing,
    vision_from_ollama,
    vision_from_props,
)
from backends.chat.openai_wire import (
    EXTRA_FIELDS_TEXT,
    ToolCallParts,
    chat_body,
    names_an_extra,
    parse_chunk,
    sse_payloads,
    whole_answer,
)
from backends.errors import GenerationError, LoadCancelled, UnsupportedModel
from backends.paths import config_file
from backends.trace import mark

CONNECT_TIMEOUT_S = 5.0
# A connection used this recently is still open: servers and httpx keep an idle one ~5 s.
WARM_AFTER_S = 3.0
# Between two chunks of a stream: a big prompt on a CPU server can take minutes to process.
READ_TIMEOUT_S = 600.0


class OpenAICompatEngine:
    """A ChatEngine that forwards to a server; it holds no model memory itself."""

    name: ClassVar[str] = "openai"
    # vision: what the server says of the loaded model (openai_modalities); where it says
    # nothing, pictures go and a 4xx to them turns vision off (explained once).
    # tools: most servers take `tools` (llama-server with --jinja, vLLM with a tool parser,
    # Ollama, LM Studio); one that refuses them turns tools off, said once.
    capabilities: EngineCapabilities = EngineCapabilities(
        streaming=True,
        cancel=True,
        tools=True,
        lists_models=True,
        holds_memory=False,
        reports_sent=True,
    )

    def __init__(self) -> None:
        self._client: httpx.Client | None = None
        self._server: ServerConfig | None = None
        self._model: str | None = None
        # Optional request fields; dropped for good when the server rejects them (HTTP 400).
        self._send_extras = True
        self._extras_refused = False
        self._vision_said = False  # the server said whether the model takes images
        self._tools_notice: str | None = None  # said once when the server refuses tools
        self._last_used = 0.0  # monotonic: when a request last started or ended

    @property
    def loaded(self) -> bool:
        return self._client is not None

    @property
    def remote_model(self) -> str | None:
        """The model id requests go to (after load)."""
        return self._model

    def load(
        self,
        spec: ModelSpec,
        options: LoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Check the server answers, the key works, it serves the model, and what the
        server says of the model taking images."""
        if spec.server is None:
            raise UnsupportedModel(
                f"{spec.name} has no server configured. Add an OpenAI-compatible server "
                f"under [[servers]] in {config_file()} and pick one of its models."
            )
        self.unload()
        server = spec.server
        if progress is not None:
            progress(LoadProgress(None, f"Connecting to {server.name} ({server.base_url})…"))
        client = make_client(server, LIST_TIMEOUT_S)
        try:
            available, listing = fetch_listing(client, server)
            if cancel is not None and cancel.is_set():
                raise LoadCancelled(f"Stopped connecting to {server.name}.")
            model = pick_model(spec.remote_model, available, server)
            sees = vision_from_listing(listing, model)
            if sees is None:
                sees = vision_from_props(client, server.base_url)
            if sees is None:
                sees = vision_from_ollama(client, server.base_url, model)
        except BaseException:
            client.close()
            raise
        self.capabilities = dataclasses.replace(type(self).capabilities, vision=sees is not False)
        self._vision_said = sees is not None
        client.timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        self._client, self._server, self._model = client, server, model
        self._send_extras = True
        self._extras_refused = False
        self._last_used = time.monotonic()
        if progress is not None:
            progress(LoadProgress(1.0, f"{server.name} serves {model}"))

    def stream(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[ChatEvent]:
        client, server, model = self._client, self._server, self._model
        if client is None or server is None or model is None:
            raise GenerationError("No model is loaded. Pick a model first.")
        started = time.perf_counter()
        self._last_used = time.monotonic()
        if cancel is not None and cancel.is_set():
            yield StreamFinished("cancelled", None, 0, None, time.perf_counter() - started)
            return
        response = yield from unless_cancelled(
            functools.partial(self._open_stream, client, server, model, messages, params), cancel
        )
        if response is None:
            yield StreamFinished("cancelled", None, 0, None, time.perf_counter() - started)
            return
        if self._tools_notice is not None:
            yield Notice(self._tools_notice)
            self._tools_notice = None
        if self._extras_refused:
            self._extras_refused = False  # said once, when the server first refuses them
            yield Notice(
                f"{server.name} refused {EXTRA_FIELDS_TEXT}: it answers without them "
                "(temperature, top p, seed and max tokens still apply)."
            )
        if response.headers.get("content-type", "").startswith("application/json"):
            yield from whole_answer(response, server, started)  # a server that ignores stream
            return
        watcher = CancelWatcher(response, cancel) if cancel is not None else None
        text_chunks = 0
        first_text_at: float | None = None
        finish: str | None = None
        usage: dict[str, Any] | None = None
        done = False
        first_thought_at: float | None = None
        tool_parts = ToolCallParts()
        payloads = sse_payloads(response)
        try:
            for payload in payloads:
                if payload == "[DONE]":
                    done = True
                    break
                chunk = parse_chunk(payload, server)
                if chunk is None:
                    continue
                if chunk.get("usage"):
                    usage = chunk["usage"]
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    content = delta.get("content")
                    # llama.cpp, vLLM and DeepSeek say reasoning_content; Ollama and
                    # OpenRouter say reasoning.
                    thought = delta.get("reasoning_content") or delta.get("reasoning")
                    if isinstance(thought, str) and thought:
                        text_chunks += 1
                        if first_thought_at is None:
                            first_thought_at = time.perf_counter()
                        yield ReasoningDelta(thought)
                    if content:
                        text_chunks += 1
                        if first_text_at is None:
                            first_text_at = time.perf_counter()
                            mark("first-text")
                        yield TextDelta(content)
                    if delta.get("tool_calls"):
                        text_chunks += 1
                        tool_parts.add(delta["tool_calls"])
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
                if cancel is not None and cancel.is_set():
                    break
        except (httpx.TransportError, httpx.StreamError) as error:
            if not (cancel is not None and cancel.is_set()) and finish is None:
                raise dropped_error(server, text_chunks, error) from error
        finally:
            if watcher is not None:
                watcher.stop()
            if done:
                finish_reading(payloads, response)  # its connection serves the next answer
            response.close()
            self._last_used = time.monotonic()
        cancelled = cancel is not None and cancel.is_set() and not done and finish is None
        if not cancelled and not done and finish is None:
            raise dropped_error(server, text_chunks, None)
        reason: FinishReason
        calls = () if cancelled else tool_parts.calls()
        if cancelled:
            reason = "cancelled"
        elif calls:
            reason = "tool_calls"
            yield ToolCallsRequested(calls)
        else:
            reason = "length" if finish == "length" else "stop"
        completion = text_chunks
        prompt: int | None = None
        if usage and not cancelled:
            completion = int(usage.get("completion_tokens") or text_chunks)
            prompt = usage.get("prompt_tokens")
            if reason == "length" and usage.get("completion_tokens"):
                # Servers say "length" for both limits; fewer tokens than asked for means
                # the context window filled first (only the server's own count can tell).
                if completion < params.max_new_tokens:
                    reason = "context"
        yield StreamFinished(
            finish_reason=reason,
            prompt_tokens=int(prompt) if prompt is not None else None,
            completion_tokens=completion,
            ttft_s=None if first_text_at is None else first_text_at - started,
            total_s=time.perf_counter() - started,
            first_thought_s=None if first_thought_at is None else first_thought_at - started,
        )

    def warm(self) -> None:
        """Have a connection open for the request the user is typing (blocking: call it from
        a worker thread). Servers (uvicorn, llama-server) and httpx drop a connection idle for
        5 s; a new one puts a connect, and for https a TLS handshake, between Enter and the
        first token. A GET of /models opens one, unless a request ran within WARM_AFTER_S."""
        client = self._client
        if client is None or time.monotonic() - self._last_used < WARM_AFTER_S:
            return
        self._last_used = time.monotonic()
        with contextlib.suppress(httpx.HTTPError):  # the request itself says what is wrong
            client.get("models", timeout=LIST_TIMEOUT_S).close()

    def unload(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None
        self._server = None
        self._model = None
        self.capabilities = type(self).capabilities

    def memory_footprint(self) -> MemoryFootprint:
        return MemoryFootprint()  # the server holds the weights, not this process

    # -- requests ----------------------------------------------------------------------------

    def _open_stream(
        self,
        client: httpx.Client,
        server: ServerConfig,
        model: str,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        on_wire: Callable[[], None],
    ) -> httpx.Response:
        """POST the chat request (`on_wire()` once it is written). An error answer is not
        sent again (a 4xx would only come back), except once without the optional fields
        when a 400 names one of them."""
        attempts = [True, False] if self._send_extras else [False]
        for extras in attempts:
            body = chat_body(model, messages, params, extras=extras)
            mark("request")
            request = client.build_request(
                "POST",
                "chat/completions",
                json=body,
                extensions={"trace": trace_written(on_wire)},
            )
            response = _send(client, server, request)
            mark("headers")
            if response.status_code >= 400:
                response.read()
                response.close()
                if extras and response.status_code == 400 and names_an_extra(response):
                    continue
                if params.tools and response.status_code in (400, 422, 500):
                    if "tool" in response.text.lower():  # llama-server without --jinja: 500
                        return self._without_tools(client, server, model, messages, params, on_wire)
                raise self._refusal(response, server, model, messages)
            if extras is False and self._send_extras:
                self._send_extras = False  # this server rejects them: stop sending
                self._extras_refused = True
            return response
        raise AssertionError("unreachable")

    def _without_tools(
        self,
        client: httpx.Client,
        server: ServerConfig,
        model: str,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        on_wire: Callable[[], None],
    ) -> httpx.Response:
        """The server refused `tools`: no tools for this model from now on, said once."""
        self.capabilities = dataclasses.replace(self.capabilities, tools=False)
        self._tools_notice = (
            f"{server.name} refused tools for {model}, so this answer goes without them "
            "(llama-server needs --jinja for tools; vLLM a --tool-call-parser)."
        )
        return self._open_stream(
            client, server, model, messages, dataclasses.replace(params, tools=()), on_wire
        )

    def _refusal(
        self,
        response: httpx.Response,
        server: ServerConfig,
        model: str,
        messages: Sequence[ChatMessage],
    ) -> Exception:
        """The error for a refused request; a 4xx to pictures the server never said the
        model takes means it reads text only: vision is off from now on (said once)."""
        error = http_error(response, server, model)
        if (
            response.status_code in (400, 415, 422)  # what servers answer a bad request with
            and has_images(messages)
            and not self._vision_said
            and mentions_images(str(error))
        ):
            self.capabilities = dataclasses.replace(self.capabilities, vision=False)
            self._vision_said = True
            return images_refused(model, server, response.status_code, error)
        return error


def _send(client: httpx.Client, server: ServerConfig, request: httpx.Request) -> httpx.Response:
    """Send `request` for a streamed answer; a transport failure becomes ServerUnreachable."""
    try:
        return client.send(request, stream=True)
    except httpx.TransportError as error:
        raise unreachable_error(server, error) from error
