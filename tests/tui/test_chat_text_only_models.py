"""Pictures and text-only models, as a user meets them in the chat: a refusal keeps the
typed question and the picture unsent; a chat with pictures goes on with a text-only model
without them (said once); a server that refuses pictures is asked once, not twice; big
pictures go out scaled; a decompression bomb is refused when attached."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.settings import load_settings
from tests.fixtures.images import write_gradient, write_png, write_png_header
from tests.fixtures.openai_server import OTHER_MODEL, LocalOpenAIServer
from tests.tui.test_chat_images import attach
from tests.tui.test_chat_screen import answered, chat, notifications, ready, send, views
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.attach_dialog import AttachImageScreen
from tui.chat.attachment_bar import AttachmentBar
from tui.chat.message_images import MessageImages
from tui.chat.prompt_input import PromptInput

pytest.importorskip("PIL")


@pytest.fixture(autouse=True)
def _halfcell_thumbnails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MessageImages, "renderer", "halfcell")


def _refusals(app: LocalAIApp) -> list[str]:
    return [n for n in notifications(app) if n.startswith("This model cannot see images")]


def _image_parts(body: dict) -> int:  # type: ignore[type-arg]
    return sum(
        1
        for message in body["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
        if part.get("type") == "image_url"
    )


def _assert_nothing_sent_and_all_kept(app: LocalAIApp, text: str, image: Path) -> None:
    assert app.screen.query_one(PromptInput).text == text  # the question is still there
    assert app.screen.query_one(AttachmentBar).paths == [image]  # and the picture
    assert views(app) == []  # nothing shown
    assert chat(app).conversation_id is None and app.store.list_conversations() == []


@pytest.mark.slow
async def test_a_tiny_gguf_without_projector_refuses_the_picture_and_keeps_the_prompt(
    make_app: Callable[..., LocalAIApp], tiny_gguf_spec: ModelSpec, tmp_path: Path
) -> None:
    """The real engine in its host: llama.cpp reads text only without an mmproj."""
    image = write_png(tmp_path / "cat.png")
    app = make_app(tiny_gguf_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, tiny_gguf_spec.key)
        assert app.manager.engine is not None and not app.manager.engine.capabilities.vision
        await attach(app, pilot, image)
        await send(app, pilot, "describe it")
        await until(pilot, lambda: _refusals(app), "the refusal")

        assert "reads text only, so the 1 attached image(s) cannot be sent" in _refusals(app)[0]
        assert "shift+F9" in _refusals(app)[0]
        _assert_nothing_sent_and_all_kept(app, "describe it", image)


async def test_a_server_model_that_refuses_pictures_is_asked_once_and_gives_the_message_back(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    openai_server_spec: ModelSpec,
    tmp_path: Path,
) -> None:
    """The server says nothing of modalities: the picture goes, the 400 comes back once."""
    openai_server.knobs.vision = False
    image = write_png(tmp_path / "cat.png")
    app = make_app(openai_server_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, openai_server_spec.key)
        await attach(app, pilot, image)
        await send(app, pilot, "what is it?")
        await until(pilot, lambda: _refusals(app), "the refusal")
        await answered(app, pilot)

        assert len(openai_server.requests) == 1  # the 400 was not POSTed again
        assert "did not take the picture (HTTP 400" in _refusals(app)[0]
        _assert_nothing_sent_and_all_kept(app, "what is it?", image)

        # The next try with the picture is refused before sending; the text alone goes.
        await pilot.press("enter")
        await pilot.pause()
        assert len(openai_server.requests) == 1 and len(_refusals(app)) == 2
        await pilot.press("shift+f9", "enter")
        await answered(app, pilot)
        await until(pilot, lambda: len(views(app)) == 2, "the answer")
        assert len(openai_server.requests) == 2
        assert views(app)[0] == ("user", "what is it?")


async def test_a_chat_with_pictures_goes_on_with_a_text_only_model_without_them(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    openai_server_spec: ModelSpec,
    tmp_path: Path,
) -> None:
    image = write_png(tmp_path / "cat.png")
    app = make_app(openai_server_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, openai_server_spec.key)
        await attach(app, pilot, image)
        await send(app, pilot, "what is it?")
        await answered(app, pilot)
        assert _image_parts(openai_server.requests[-1]) == 1

        openai_server.knobs.vision = False
        openai_server.knobs.props_vision = False  # llama-server says: no projector
        text_only = openai_server.spec(OTHER_MODEL)
        chat(app).models.load(text_only)
        await ready(app, pilot, text_only.key)
        for question in ("and its colour?", "anything else?"):
            await send(app, pilot, question)
            await answered(app, pilot)

        left_out = [n for n in notifications(app) if n.startswith("Pictures left out")]
        assert len(left_out) == 1  # said once, not every turn
        assert "the 1 picture(s) earlier in this chat are left out" in left_out[0]
        assert [_image_parts(body) for body in openai_server.requests] == [1, 0, 0]
        assert len(openai_server.requests) == 3 and not _refusals(app)
        assert [role for role, _ in views(app)] == ["user", "assistant"] * 3


async def test_big_pictures_go_out_scaled_and_a_bomb_is_refused_when_attached(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    openai_server_spec: ModelSpec,
    tmp_path: Path,
) -> None:
    from PIL import Image

    photo = write_gradient(tmp_path / "photo.png", 300, 200)
    bomb = write_png_header(tmp_path / "huge.png", 16000, 16000)
    app = make_app(openai_server_spec, load_settings(image_max_side=64))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, openai_server_spec.key)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, AttachImageScreen), "attach dialog")
        await pilot.press(*str(bomb), "enter")
        await pilot.pause()
        assert isinstance(app.screen, AttachImageScreen)  # stays open to pick another
        error = str(app.screen.query_one("#attach-error").render())
        assert "16000×16000 pixels (256 megapixels)" in error and "Scale it down" in error
        await pilot.press("escape")

        await attach(app, pilot, photo)
        await send(app, pilot, "what is it?")
        await answered(app, pilot)

        mime, sent = openai_server.images[-1]
        with Image.open(io.BytesIO(sent)) as received:
            assert (mime, received.size) == ("image/jpeg", (64, 43))
        stored = app.screen.query_one(MessageImages).paths[0]
        assert stored.read_bytes() == photo.read_bytes()  # the chat keeps the original


async def test_a_stored_picture_too_big_to_decode_is_named_not_drawn(tmp_path: Path) -> None:
    """A bomb stored before attaching checked pixels: its thumbnail is never decoded."""
    from textual.app import App, ComposeResult

    bomb = write_png_header(tmp_path / "0123456789abcdef-huge.png", 16000, 16000)

    class Thumbnails(App[None]):
        def compose(self) -> ComposeResult:
            yield MessageImages([str(bomb)])

    app = Thumbnails()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not app.query(".thumb-image")
        assert str(app.query_one(".thumb-caption").render()).startswith("[cannot show: huge")
