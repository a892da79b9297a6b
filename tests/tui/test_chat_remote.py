"""The chat screen against a real engine: the OpenAI-compatible one and a local test server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable
from textual.worker import Worker

from backends.base import ModelSpec
from backends.errors import ServerUnreachable
from backends.models.server_models import discover_server_models
from backends.settings import load_settings
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.tui.test_chat_screen import answered, chat, notifications, ready, send, views
from tests.tui.test_model_picker_and_help import table_text
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.prompt_input import PromptInput
from tui.screens.model_picker import ModelPickerScreen

DEAD = {"name": "dead", "base_url": "http://127.0.0.1:9/v1"}


def warming(app: LocalAIApp) -> list[Worker[object]]:
    return [w for w in app.workers if w.group == "warm"]


def test_server_models_are_listed_and_a_dead_server_is_reported(
    openai_server: LocalOpenAIServer,
) -> None:
    settings = load_settings(servers=[{"name": "test", "base_url": openai_server.base_url}, DEAD])
    specs, failures = discover_server_models(settings)
    assert sorted(s.key for s in specs) == sorted(
        f"openai:test/{m}" for m in openai_server.knobs.models
    )
    assert all(s.engine == "openai" and s.server is not None for s in specs)
    assert [name for name, _ in failures] == ["dead"]


def test_offline_asks_no_server_off_this_machine_and_says_so(
    openai_server: LocalOpenAIServer, tmp_path: Path
) -> None:
    """--offline: a LAN server is neither listed nor loaded, and the picker says why."""
    from backends.models.manager import ModelManager
    from backends.models.server_models import server_spec

    far = {"name": "lan", "base_url": "http://10.255.255.1:8000/v1"}
    near = {"name": "here", "base_url": openai_server.base_url}
    settings = load_settings(servers=[far, near], offline=True)
    specs, failures = discover_server_models(settings)
    assert {s.server.name for s in specs} == {"here"}  # type: ignore[union-attr]
    assert [name for name, _ in failures] == ["lan"]
    assert "offline mode is on" in failures[0][1].message
    manager = ModelManager(settings, recents_path=tmp_path / "r.json")
    lan = server_spec(settings.servers[0].to_config(), "qwen")
    with pytest.raises(ServerUnreachable, match="offline mode is on"):
        manager.switch(lan)  # a recent or default_model on the LAN: refused, not dialled
    assert len(openai_server.requests) == 0


async def test_pick_a_server_model_and_stream_its_answer(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    openai_server: LocalOpenAIServer,
) -> None:
    settings = load_settings(servers=[{"name": "test", "base_url": openai_server.base_url}])
    openai_server.knobs.reply = "Paris is the **capital** of France."
    app = make_app(model_a, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, ModelPickerScreen)
        table = app.screen.query_one(DataTable)
        model = openai_server.model
        await until(pilot, lambda: any(model in r for r in table_text(table)), "server model")
        row = next(r for r in table_text(table) if model in r)
        assert "OpenAI-compatible" in row and "test (" in row
        await pilot.press(*model, "enter")
        await ready(app, pilot, f"openai:test/{model}")
        await send(app, pilot, "capital of France?")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Paris is the **capital** of France.")
        assert openai_server.requests[-1]["messages"][-1]["content"] == "capital of France?"


async def test_escape_stops_a_server_answer_mid_stream(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    openai_server_spec: ModelSpec,
) -> None:
    openai_server.knobs.stall_after = 3
    app = make_app(openai_server_spec)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, openai_server_spec.key)
        await send(app, pilot, "talk")
        assert await asyncio.to_thread(openai_server.stalled.wait, 5)
        await until(pilot, lambda: len(views(app)[-1][1].split()) == 3, "three words shown")
        partial = views(app)[-1][1]
        await pilot.press("escape")
        await answered(app, pilot)
        assert views(app)[-1][1] == partial
        stored = app.store.messages(chat(app).conversation_id)  # type: ignore[arg-type]
        assert stored[-1].content == partial
        assert stored[-1].stats["finish_reason"] == "cancelled"  # type: ignore[index]


async def test_unreachable_server_fails_clearly_and_the_previous_model_stays(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    openai_server: LocalOpenAIServer,
) -> None:
    dead = openai_server.spec_for(
        openai_server.server_config().__class__(name="dead", base_url=DEAD["base_url"]), "m"
    )
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        chat(app).load_model(dead)
        await until(
            pilot, lambda: any("Still using Model A" in n for n in notifications(app)), "load error"
        )
        assert app.manager.spec.key == "a"  # type: ignore[union-attr]
        await send(app, pilot, "hello?")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Hello from **A**.")


async def test_a_server_model_as_the_startup_model(
    make_app: Callable[..., LocalAIApp], openai_server: LocalOpenAIServer
) -> None:
    model = openai_server.model
    settings = load_settings(
        servers=[{"name": "local", "base_url": openai_server.base_url}],
        default_model=f"openai:local/{model}",
    )
    app = make_app(None, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, f"openai:local/{model}")
        assert not [n for n in notifications(app) if "hf download" in n]


async def test_two_servers_serving_the_same_model_are_named_apart(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    openai_server: LocalOpenAIServer,
) -> None:
    """Both read "qwen" in the picker, the header and the chat list."""
    from tui.chat.message_list import model_title

    servers = [
        {"name": "gpu-box", "base_url": openai_server.base_url},
        {"name": "laptop", "base_url": openai_server.base_url},
    ]
    app = make_app(model_a, load_settings(servers=servers))
    model = openai_server.model
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("ctrl+o")
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: sum(model in r for r in table_text(table)) == 2, "both")
        rows = [r for r in table_text(table) if model in r]
        assert any(f"{model} · gpu-box" in r for r in rows)
        assert any(f"{model} · laptop" in r for r in rows)
        await pilot.press(*f"{model} · laptop", "enter")
        await ready(app, pilot, f"openai:laptop/{model}")
        assert f"{model} · laptop" in chat(app).status.text
    # A saved answer from a server the app no longer knows still names it.
    assert model_title(f"openai:gpu-box/{model}") == f"{model} · gpu-box"


async def test_a_sent_message_is_shown_and_saved_while_the_server_is_silent(
    make_app: Callable[..., LocalAIApp], openai_server: LocalOpenAIServer, tmp_path: Path
) -> None:
    """The chat draws the sent message once the request is written (so drawing does not
    slow the request down), never later than that: not when the server first answers."""
    from backends.store.conversations import ConversationStore

    settings = load_settings(servers=[{"name": "test", "base_url": openai_server.base_url}])
    spec = openai_server.spec()
    app = make_app(spec, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        openai_server.knobs.stall_before_headers = True  # as a server processing a prompt
        await send(app, pilot, "still there?")
        await until(pilot, openai_server.stalled.is_set, "the request at the server")
        await until(pilot, lambda: ("user", "still there?") in views(app), "the message shown")
        assert not openai_server.stall_ended.is_set()
        conversation = chat(app).conversation_id
        assert conversation is not None
        on_disk = ConversationStore(tmp_path / "data" / "conversations.sqlite3")
        assert [m.content for m in on_disk.messages(conversation)][:1] == ["still there?"]
        await pilot.press("escape")
        await answered(app, pilot)


async def test_answers_in_a_row_reuse_the_connection(
    make_app: Callable[..., LocalAIApp], openai_server: LocalOpenAIServer
) -> None:
    settings = load_settings(servers=[{"name": "test", "base_url": openai_server.base_url}])
    spec = openai_server.spec()
    app = make_app(spec, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        for prompt in ("one", "two", "three"):
            await send(app, pilot, prompt)
            await answered(app, pilot)
        assert [v for v in views(app) if v[0] == "user"] == [
            ("user", "one"),
            ("user", "two"),
            ("user", "three"),
        ]
    assert len(openai_server.peers) == 3 and len(set(openai_server.peers)) == 1


async def test_typing_after_a_pause_opens_the_connection_the_message_then_uses(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Servers drop a connection idle for ~5 s; typing opens one (a GET of /models), so
    Enter does not wait for a connect (or a TLS handshake) before the request goes."""
    from backends.chat import openai_compat

    settings = load_settings(servers=[{"name": "test", "base_url": openai_server.base_url}])
    spec = openai_server.spec()
    app = make_app(spec, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        listed = len(openai_server.gets)
        monkeypatch.setattr(openai_compat, "WARM_AFTER_S", 0.0)  # "a long pause ago"
        app.query_one(PromptInput).focus()
        await pilot.press("h", "i")
        await until(pilot, lambda: "/v1/models" in openai_server.gets[listed:], "a GET")
        await until(pilot, lambda: all(w.is_finished for w in warming(app)), "warmed")
        await pilot.press("enter")
        await answered(app, pilot)
    gets = list(zip(openai_server.gets, openai_server.get_peers, strict=True))[listed:]
    warmed = [peer for path, peer in gets if path == "/v1/models"]  # (the gauge asks /api/ps)
    assert len(warmed) == 1  # once, though two keys were typed
    assert openai_server.peers == warmed  # the message went on the warmed connection
