"""`generate_image` called by a model (the local OpenAI-compatible server streaming the
call): asked first, then made with the image model the way `/image` makes it -- the picture
inline in the chat and stored with it, the PNG with its A1111 parameters in the gallery --
and the model hears the path, size and seed and goes on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.image.png_metadata import read_parameters, request_from_parameters
from backends.image.session import remember_model
from backends.settings import load_settings
from backends.store.gallery import GalleryStore
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.fixtures.slow_diffusers import slow_diffusers_spec, slow_prompt
from tests.tui.conftest import QuietGauge
from tests.tui.test_chat_screen import answered, chat, ready, send, views
from tests.tui.waiting import until as _until
from tui.app import LocalAIApp
from tui.chat.message_images import MessageImages
from tui.chat.message_view import MessageView
from tui.chat.picture_message import PictureBody
from tui.chat.tool_approval import ToolApprovalScreen
from tui.chat.tool_call_view import ToolCallView

__all__ = ["slow_diffusers_spec"]


@pytest.fixture(autouse=True)
def _halfcell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(MessageImages, "renderer", "halfcell")
    monkeypatch.setenv("LOCALAI_TUI_DATA_DIR", str(tmp_path / "data"))


async def until(pilot, condition, what: str) -> None:  # noqa: ANN001
    """A hosted model load on a busy 2-core box takes tens of seconds."""
    await _until(pilot, condition, what, tries=30000)


def picture_app(
    make_app: Callable[..., LocalAIApp], server: LocalOpenAIServer, tmp_path: Path
) -> LocalAIApp:
    settings = load_settings(servers=[{"name": "test", "base_url": server.base_url}])
    settings.images.renderer = "halfcell"
    app = make_app(server.spec(), settings)
    app.images._gallery = GalleryStore(tmp_path / "data" / "gallery.sqlite3")
    app.images.gauge_factory = QuietGauge
    return app


def sent_results(server: LocalOpenAIServer) -> list[str]:
    return [m["content"] for m in server.requests[-1]["messages"] if m["role"] == "tool"]


async def allow(app: LocalAIApp, pilot, prompt: str = "a red square") -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen), "the approval")
    shown = str(app.screen.query_one(".tool-arguments").render())
    assert prompt in shown
    await pilot.press("y")


@pytest.mark.slow
async def test_the_model_makes_a_picture_into_the_chat_and_the_gallery(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    tiny_sd_spec: ModelSpec,
    tmp_path: Path,
) -> None:
    arguments = {"prompt": "a red square", "width": 64, "height": 64, "steps": 3, "seed": 42}
    openai_server.knobs.tool_calls = [("generate_image", arguments)]
    openai_server.knobs.reply = "Here is your red square."
    app = picture_app(make_app, openai_server, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        remember_model(tiny_sd_spec)  # the image model loaded last, as for /image
        await ready(app, pilot, openai_server.spec().key)
        await send(app, pilot, "draw a red square")
        await allow(app, pilot)
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Here is your red square.")

        # The model heard where the picture is, its size and seed.
        [result] = sent_results(openai_server)
        pngs = list((tmp_path / "data" / "images").rglob("*.png"))
        assert len(pngs) == 1
        assert str(pngs[0]) in result and "64x64 px" in result and "seed 42" in result

        # The gallery's PNG carries the A1111 parameters, as on the Images screen.
        back = request_from_parameters(read_parameters(pngs[0]) or "")
        assert (back.prompt, back.steps, back.seed, back.width) == ("a red square", 3, 42, 64)
        assert [i.prompt for i in app.images.gallery.images()] == ["a red square"]

        # Inline in the chat, as its own message, above the call's block.
        [picture] = [v for v in app.query(MessageView) if v.role == "picture"]
        body = picture.query_one(PictureBody)
        await until(pilot, lambda: body.query(".picture-image"), "the picture drawn")
        assert "64×64 · seed 42" in str(body.query_one(".picture-caption").render())
        assert "generate_image · app · allowed once" in str(
            app.query_one(ToolCallView).query_one("CollapsibleTitle").render()
        )

        # Stored with the conversation, in the order it happened: the call is saved when it
        # starts (a kill while the picture is made leaves it "interrupted"), the picture as
        # it is made, the model's answer after.
        conversation = chat(app).conversation_id
        assert conversation is not None
        stored = app.store.messages(conversation)
        assert [m.role for m in stored] == ["user", "assistant", "tool", "picture", "assistant"]
        assert stored[3].images and stored[3].stats["seed"] == 42  # type: ignore[index]


async def test_without_an_image_model_the_model_hears_how_to_get_one(
    make_app: Callable[..., LocalAIApp], openai_server: LocalOpenAIServer, tmp_path: Path
) -> None:
    openai_server.knobs.tool_calls = [("generate_image", {"prompt": "a red square"})]
    openai_server.knobs.reply = "I could not draw it."
    app = picture_app(make_app, openai_server, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, openai_server.spec().key)
        await send(app, pilot, "draw a red square")
        await allow(app, pilot)
        await answered(app, pilot)
        [result] = sent_results(openai_server)
        assert "no image model" in result.lower() and "F5, ctrl+o" in result
        assert "error" in str(app.query_one(ToolCallView).query_one("CollapsibleTitle").render())
        assert not [v for v in app.query(MessageView) if v.role == "picture"]


@pytest.mark.slow
async def test_esc_cancels_the_picture_and_the_model_hears_it(
    make_app: Callable[..., LocalAIApp],
    openai_server: LocalOpenAIServer,
    slow_diffusers_spec: ModelSpec,
    tmp_path: Path,
) -> None:
    """A step that does not end: Esc in the chat ends the picture (not the answer), nothing
    is saved, and the model is told the user cancelled it and goes on."""
    prompt = slow_prompt(3600, "never")
    arguments = {"prompt": prompt, "width": 64, "height": 64, "steps": 3}
    openai_server.knobs.tool_calls = [("generate_image", arguments)]
    openai_server.knobs.reply = "Maybe another time."
    app = picture_app(make_app, openai_server, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        remember_model(slow_diffusers_spec)
        await ready(app, pilot, openai_server.spec().key)
        await send(app, pilot, "draw something slow")
        await allow(app, pilot, "never")
        flow = chat(app).pictures
        await until(pilot, lambda: flow.job is not None and flow.job.last_step, "step 1")
        await pilot.press("escape")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Maybe another time.")
        [result] = sent_results(openai_server)
        assert "cancelled" in result and "nothing was saved" in result
        assert not list((tmp_path / "data" / "images").rglob("*.png"))
        [picture] = [v for v in app.query(MessageView) if v.role == "picture"]
        caption = str(picture.query_one(PictureBody).query_one(".picture-caption").render())
        assert "cancelled" in caption
