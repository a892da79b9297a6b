"""Servers at start-up: probed in the background, a down one said once and never in the way."""

from __future__ import annotations

from collections.abc import Callable

from backends.settings import ServerEntry, Settings, load_settings
from tests.fixtures.a1111_server import A1111TestServer
from tests.fixtures.openai_media_server import OpenAIMediaServer
from tests.tui.waiting import until
from tui.app import LocalAIApp


def _notes(app: LocalAIApp) -> str:
    return " ".join(f"{n.title}: {n.message}" for n in app._notifications)


async def test_a_down_server_is_said_once_and_start_up_goes_on(
    make_app: Callable[..., LocalAIApp], a1111_server: A1111TestServer
) -> None:
    settings: Settings = load_settings()
    settings.servers = [
        ServerEntry(name="forge", base_url=a1111_server.root, kind="a1111"),
        ServerEntry(name="gone", base_url="http://127.0.0.1:9/v1"),
    ]
    app = make_app(settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "gone: server unreachable" in _notes(app), "the warning")
        assert "Retrying in the background" in _notes(app)
        assert _notes(app).count("gone:") == 1
        await until(pilot, lambda: "forge" in app.servers.known(), "forge probed")
        assert app.servers.known()["forge"].up


async def test_the_chat_gauge_shows_what_ollama_holds(
    make_app: Callable[..., LocalAIApp], media_server: OpenAIMediaServer
) -> None:
    from tui.widgets.remote_box import RemoteBoxGauge

    settings: Settings = load_settings()
    settings.servers = [ServerEntry(name="lab", base_url=media_server.base_url)]
    app = make_app(settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: bool(app.screen.query(RemoteBoxGauge)), "the remote box")
        box = app.screen.query_one(RemoteBoxGauge)
        await until(pilot, lambda: box.states != [], "a reading")
        assert "lab (Ollama)  loaded: tiny-chat 800 MB" in str(box.render())


async def test_the_chats_server_model_shows_its_vram_on_the_box(
    make_app: Callable[..., LocalAIApp], media_server: OpenAIMediaServer
) -> None:
    """The chat runs on lab's Ollama: the box names it first with what /api/ps says it holds,
    the server's other models after it; unloaded there, it says so."""
    from tui.widgets.remote_box import RemoteBoxGauge

    media_server.loaded_models = ["nomic-embed-text", "tiny-chat:latest"]
    settings: Settings = load_settings()
    settings.servers = [ServerEntry(name="lab", base_url=media_server.base_url)]
    app = make_app(startup=media_server.spec("tiny-chat", "openai"), settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "the server's chat model")
        await until(pilot, lambda: bool(app.screen.query(RemoteBoxGauge)), "the remote box")
        box = app.screen.query_one(RemoteBoxGauge)
        shown = lambda: str(box.render())  # noqa: E731
        await until(pilot, lambda: "chat tiny-chat" in shown(), "the chat model on its box")
        assert "lab (Ollama)  chat tiny-chat 800 MB · also loaded: nomic-embed-text 800 MB" in (
            shown()
        )
        media_server.loaded_models = ["nomic-embed-text"]
        box.read_now()
        await until(pilot, lambda: "chat tiny-chat not loaded" in shown(), "unloaded there")
