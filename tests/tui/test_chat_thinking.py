"""A reasoning model's thinking in the chat: its own dimmed section, open while the model
thinks, folded when the answer starts, never sent back, there again when the chat reopens."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from backends.base import ModelSpec
from backends.settings import load_settings
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.fixtures.scripted_engine import Script, scripted_spec
from tests.tui.test_chat_screen import answered, chat, ready, send, views
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.message_view import MessageView
from tui.chat.thinking_section import ThinkingSection

# <think> split across deltas, as a local model's tokens arrive.
THINKING_TOKENS = ["<th", "ink>\n", "The user", " says hi.", "</thi", "nk>\n\n", "Hello", "!"]


def section(app: LocalAIApp) -> ThinkingSection:
    return app.query(MessageView).last().query_one(ThinkingSection)


def shown_thought(app: LocalAIApp) -> str:
    sections = app.query(MessageView).last().query(ThinkingSection)
    return str(sections.first().query_one(".thought").render()) if sections else ""


async def test_thinking_streams_open_then_folds_when_the_answer_starts(
    make_app: Callable[..., LocalAIApp], scripted_engines: dict[str, Script]
) -> None:
    script = Script(tokens=THINKING_TOKENS)
    reached, go = threading.Event(), threading.Event()
    script.gates[6] = (reached, go)  # hold before the answer's first token
    scripted_engines["r1"] = script
    spec = scripted_spec("r1", "Reasoner")
    app = make_app(spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "r1")
        await send(app, pilot, "hi")
        assert await asyncio.to_thread(reached.wait, 5)
        await until(pilot, lambda: "says hi." in shown_thought(app), "the thought shown")
        assert not section(app).collapsed  # open while the model thinks
        assert "Thinking…" in section(app).title
        assert views(app)[-1] == ("assistant", "")  # no tag text in the answer
        go.set()
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Hello!")
        assert section(app).collapsed
        assert section(app).title.startswith("Thinking · ") and section(app).title.endswith(" s")
        stats = str(app.query(MessageView).last().query_one(".stats").render())
        assert "first thought" in stats and "TTFT" in stats
        conversation = chat(app).conversation_id
        assert conversation is not None
        stored = app.store.messages(conversation)[-1]
        assert (stored.content, stored.reasoning) == ("Hello!", "The user says hi.")

        # The next request's history holds the answer, not the thinking.
        await send(app, pilot, "again")
        await answered(app, pilot)
        sent = script.calls[-1]
        assert [m.content for m in sent if m.role == "assistant"] == ["Hello!"]

        # Reopened, the thinking is there, folded, above its answer.
        await pilot.press("ctrl+n")
        chat(app).open_conversation(conversation)
        await until(pilot, lambda: len(app.query(MessageView)) == 4, "the chat reopened")
        first_answer = app.query(MessageView)[1]
        await until(pilot, lambda: bool(first_answer.query(ThinkingSection)), "its thinking")
        reopened = first_answer.query_one(ThinkingSection)
        assert reopened.collapsed and reopened.title.startswith("Thinking · ")
        assert "The user says hi." in str(reopened.query_one(".thought").render())


async def test_server_reasoning_stays_out_of_the_next_request(
    make_app: Callable[..., LocalAIApp], openai_server: LocalOpenAIServer
) -> None:
    settings = load_settings(servers=[{"name": "test", "base_url": openai_server.base_url}])
    openai_server.knobs.reasoning = "they want a greeting"
    openai_server.knobs.reply = "Hi there."
    spec: ModelSpec = openai_server.spec()
    app = make_app(spec, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        await send(app, pilot, "hello")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Hi there.")
        assert "they want a greeting" in shown_thought(app)
        assert section(app).collapsed
        await send(app, pilot, "more")
        await answered(app, pilot)
        history = openai_server.requests[-1]["messages"]
        assert [m["content"] for m in history if m["role"] == "assistant"] == ["Hi there."]
        assert "greeting" not in str(history)


async def test_thinking_off_for_a_model_goes_to_the_server(
    make_app: Callable[..., LocalAIApp], openai_server: LocalOpenAIServer
) -> None:
    spec = openai_server.spec()
    settings = load_settings(
        servers=[{"name": "test", "base_url": openai_server.base_url}],
        models={spec.key: {"thinking": False}},
    )
    app = make_app(spec, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        await send(app, pilot, "hello")
        await answered(app, pilot)
        body = openai_server.requests[-1]
        assert body["chat_template_kwargs"] == {"enable_thinking": False}
