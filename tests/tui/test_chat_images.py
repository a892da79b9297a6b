"""Images in chat as a user sends them: attach with F9, refused by a text-only model,
sent as image_url parts to an OpenAI-compatible server, shown as thumbnails, kept with the
conversation (a copy in the data dir) and shown again after a restart; export links them."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import ModelSpec
from tests.fixtures.images import write_png
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.fixtures.scripted_engine import Script
from tests.tui.test_chat_screen import answered, chat, notifications, ready, send, views
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.attach_dialog import AttachImageScreen
from tui.chat.attachment_bar import AttachmentBar
from tui.chat.message_images import MessageImages
from tui.chat.message_view import MessageView


@pytest.fixture(autouse=True)
def _halfcell_thumbnails(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests have no terminal to probe; half-cells render as plain coloured text.
    monkeypatch.setattr(MessageImages, "renderer", "halfcell")


async def attach(app: LocalAIApp, pilot, path: Path) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("f9")
    await until(pilot, lambda: isinstance(app.screen, AttachImageScreen), "attach dialog")
    await pilot.press(*str(path), "enter")
    await until(pilot, lambda: not isinstance(app.screen, AttachImageScreen), "attached")


async def test_image_goes_to_the_server_as_a_data_url_and_comes_back_after_restart(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    openai_server_spec: ModelSpec,
    tmp_path: Path,
) -> None:
    original = write_png(tmp_path / "photos" / "red square.png")
    openai_server.knobs.reply = "A red square with a white diagonal."
    app = make_app(openai_server_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, openai_server_spec.key)
        await attach(app, pilot, original)
        bar = app.screen.query_one(AttachmentBar)
        assert "red square.png" in str(bar.render())
        await send(app, pilot, "What is in this picture?")
        await answered(app, pilot)

        content = openai_server.requests[-1]["messages"][-1]["content"]
        assert content[0]["type"] == "image_url"
        assert content[0]["image_url"]["url"].startswith("data:image/png;base64,")
        assert content[1] == {"type": "text", "text": "What is in this picture?"}
        assert openai_server.images == [("image/png", original.read_bytes())]
        assert views(app)[-1] == ("assistant", "A red square with a white diagonal.")
        assert not bar.paths  # the bar empties once sent
        user = app.screen.query(MessageView).first()
        thumbs = user.query_one(MessageImages)
        assert [p.suffix for p in thumbs.paths] == [".png"]
        assert thumbs.query(".thumb-image")  # a picture, not the "missing" caption
        assert "red square.png" in str(thumbs.query_one(".thumb-caption").render())
        stored = thumbs.paths[0]
        assert stored.read_bytes() == original.read_bytes()
        assert stored.parent == tmp_path / "data" / "attachments"
        conversation = chat(app).conversation_id
        assert conversation is not None

    original.unlink()  # the chat keeps its own copy
    app = make_app(openai_server_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, openai_server_spec.key)
        chat(app).open_conversation(conversation)
        await until(pilot, lambda: app.screen.query(MessageImages), "thumbnail after reopen")
        reopened = app.screen.query_one(MessageImages)
        assert reopened.paths == [stored] and reopened.query(".thumb-image")
        markdown = app.store.export_markdown(conversation)
        assert f"![image 1]({stored.as_uri()})" in markdown

        # The next turn sends the image again (it is part of the conversation).
        await send(app, pilot, "And its colour?")
        await answered(app, pilot)
        sent = openai_server.requests[-1]["messages"]
        assert sent[0]["content"][0]["image_url"]["url"].endswith(
            base64.b64encode(stored.read_bytes()).decode()
        )


async def test_a_text_only_model_refuses_the_image_before_sending(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
    tmp_path: Path,
) -> None:
    image = write_png(tmp_path / "cat.png")
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, AttachImageScreen), "attach dialog")
        warning = str(app.screen.query_one("#attach-error").render())
        assert "Model A reads text only" in warning
        await pilot.press(*str(image), "enter")
        await until(pilot, lambda: not isinstance(app.screen, AttachImageScreen), "attached")
        await send(app, pilot, "describe it")
        await until(pilot, lambda: notifications(app), "the refusal")

        shown = " ".join(notifications(app))
        assert "This model cannot see images" in shown
        assert "Model A reads text only, so the 1 attached image(s) cannot be sent" in shown
        assert scripted_engines["a"].calls == []  # nothing reached the engine
        assert views(app) == []  # nothing stored or shown either
        assert chat(app).conversation_id is None
        assert app.screen.query_one(AttachmentBar).paths == [image]  # kept to remove or retry


async def test_attaching_a_file_that_is_not_an_image_says_so(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("not really a picture")
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, AttachImageScreen), "attach dialog")
        await pilot.press(*str(notes), "enter")
        await pilot.pause()
        assert isinstance(app.screen, AttachImageScreen)  # stays open to fix the path
        assert "is not a PNG, JPEG" in str(app.screen.query_one("#attach-error").render())


@pytest.mark.slow
async def test_a_tiny_vision_model_streams_an_answer_to_an_image(
    make_app: Callable[..., LocalAIApp], tiny_llava_spec: ModelSpec, tmp_path: Path
) -> None:
    """The real path: the transformers engine in its host process, image-text-to-text."""
    from backends.settings import load_settings

    image = write_png(tmp_path / "red.png")
    settings = load_settings(sampling={"temperature": 0.0, "max_new_tokens": 6})
    app = make_app(tiny_llava_spec, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(
            pilot,
            lambda: app.manager.spec is not None and chat(app).status.text.endswith("ready"),
            "tiny LLaVA loaded",
            tries=12000,
        )
        await attach(app, pilot, image)
        await send(app, pilot, "What colour is it?")
        await until(pilot, lambda: not chat(app).generating, "the answer", tries=12000)

        answer = app.screen.query(MessageView).last()
        assert answer.role == "assistant" and answer.content.strip()
        assert "6 tokens" in str(answer.query_one(".stats").render())
        assert app.screen.query(MessageView).first().query(MessageImages)


async def test_editing_a_message_with_an_image_keeps_the_image(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    openai_server_spec: ModelSpec,
    tmp_path: Path,
) -> None:
    image = write_png(tmp_path / "blue.png", color=(20, 40, 220))
    app = make_app(openai_server_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, openai_server_spec.key)
        await attach(app, pilot, image)
        await send(app, pilot, "colour?")
        await answered(app, pilot)
        await pilot.press("alt+e")
        bar = app.screen.query_one(AttachmentBar)
        assert [p.name for p in bar.paths] and bar.paths[0].suffix == ".png"
        await pilot.press("ctrl+a", "ctrl+k", *"which colour?", "enter")
        await answered(app, pilot)
        sent = openai_server.requests[-1]["messages"][-1]["content"]
        assert sent[0]["type"] == "image_url" and sent[1]["text"] == "which colour?"
        assert openai_server.images[-1] == ("image/png", image.read_bytes())
