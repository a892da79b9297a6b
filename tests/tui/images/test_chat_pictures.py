"""Pictures in the chat as a user makes them: `/image` with the tiny diffusers pipeline puts a
picture message in the chat and a PNG (A1111 parameters) in the gallery; the parameters are
one key away, `a` attaches it to the next message, a reopened chat shows it, the export
links it, and a gallery picture goes to the chat with `c`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.image.png_metadata import read_parameters, request_from_parameters
from backends.image.session import remember_model
from tests.fixtures.slow_diffusers import slow_diffusers_spec, slow_prompt
from tests.tui.test_chat_screen import chat, notifications, send
from tests.tui.waiting import until as _until
from tui.app import LocalAIApp
from tui.chat.attachment_bar import AttachmentBar
from tui.chat.image_command import CommandError, parse_image_command
from tui.chat.message_images import MessageImages
from tui.chat.message_view import MessageView
from tui.chat.picture_message import PictureBody, PictureParametersScreen
from tui.chat.prompt_input import PromptInput

__all__ = ["slow_diffusers_spec"]


@pytest.fixture(autouse=True)
def _halfcell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MessageImages, "renderer", "halfcell")


async def until(pilot, condition, what: str) -> None:  # noqa: ANN001
    """A hosted model load on a busy 2-core box takes tens of seconds."""
    await _until(pilot, condition, what, tries=30000)


def pictures(app: LocalAIApp) -> list[MessageView]:
    return [v for v in app.query(MessageView) if v.role == "picture"]


def test_the_command_reads_its_prompt_and_options() -> None:
    command = parse_image_command("/image a red square --steps 3 --size 64x48 --seed 7")
    assert command is not None
    assert (command.prompt, command.steps, command.size, command.seed) == (
        "a red square",
        3,
        (64, 48),
        7,
    )
    assert parse_image_command("/imagery is a word") is None
    assert parse_image_command("draw /image a cat") is None
    with pytest.raises(CommandError, match="what the picture should show"):
        parse_image_command("/image --steps 3")
    with pytest.raises(CommandError, match="--steps 20"):
        parse_image_command("/image a cat --steps many")


async def test_no_image_model_says_how_to_get_one(
    make_image_app: Callable[..., LocalAIApp],
) -> None:
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await send(app, pilot, "/image a red square")
        await until(pilot, lambda: notifications(app), "a notice")
        text = notifications(app)[-1]
        assert "No image model" in text and "Hub (F3" in text and "F5, ctrl+o" in text
        assert pictures(app) == []
        assert app.query_one(PromptInput).text == "/image a red square"  # kept to retry


@pytest.mark.slow
async def test_image_command_puts_the_picture_in_the_chat_gallery_and_export(
    make_image_app: Callable[..., LocalAIApp], tiny_sd_spec: ModelSpec, tmp_path: Path
) -> None:
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        remember_model(tiny_sd_spec)  # loaded on the Images screen in an earlier run
        await send(app, pilot, "/image a red square --steps 3 --size 64x64 --seed 42")
        await until(pilot, lambda: pictures(app), "the picture message")
        view = pictures(app)[0]
        body = view.query_one(PictureBody)
        await until(pilot, lambda: body.query(".picture-hint"), "the picture")
        assert view.message_id is not None
        assert "Picture · tiny-sd" in str(view.query_one(".role").render())
        caption = str(body.query_one(".picture-caption").render())
        assert "64×64 · seed 42" in caption and "gallery #1" in caption
        assert body.query(".picture-image")  # drawn, not a "missing" caption

        # In the gallery, with the parameters the Images screen writes.
        pngs = list((tmp_path / "data" / "images").rglob("*.png"))
        assert len(pngs) == 1
        back = request_from_parameters(read_parameters(pngs[0]) or "")
        assert (back.prompt, back.steps, back.seed, back.width) == ("a red square", 3, 42, 64)
        assert [i.prompt for i in app.images.gallery.images()] == ["a red square"]

        # Parameters one key away.
        body.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PictureParametersScreen), "params")
        shown = str(app.screen.query_one("#picture-parameters").render())
        assert "a red square" in shown and "Seed: 42" in shown
        await pilot.press("escape")

        # Attached to the next message in one key.
        await until(pilot, lambda: not isinstance(app.screen, PictureParametersScreen), "closed")
        body.focus()
        await pilot.press("a")
        bar = chat(app).query_one(AttachmentBar)
        assert [p.suffix for p in bar.paths] == [".png"]
        assert app.query_one(PromptInput).text == "What is in this picture?"
        conversation = chat(app).conversation_id
        assert conversation is not None

        # The export links it.
        markdown = app.store.export_markdown(conversation)  # type: ignore[attr-defined]
        assert "## Picture" in markdown and "a red square" in markdown
        assert f"]({Path(view.images[0]).as_uri()})" in markdown
        assert "Steps: 3" in markdown and "Seed: 42" in markdown  # the parameters, fenced

    # Reopened after a restart: the same picture message.
    again = make_image_app()
    async with again.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: chat(again).query("ParamsPanel"), "the chat started")
        chat(again).open_conversation(conversation)
        await until(
            pilot, lambda: pictures(again) and pictures(again)[0].query(PictureBody), "reopened"
        )
        body = pictures(again)[0].query_one(PictureBody)
        await until(pilot, lambda: body.query(".picture-hint"), "the picture")
        assert "gallery #1" in str(body.query_one(".picture-caption").render())
        assert body.query(".picture-image")
        assert "Picture · tiny-sd" in str(pictures(again)[0].query_one(".role").render())


@pytest.mark.slow
async def test_gallery_picture_goes_to_the_chat(
    make_image_app: Callable[..., LocalAIApp], tmp_path: Path
) -> None:
    from tests.fixtures.images import write_png

    app = make_image_app()
    png = write_png(tmp_path / "outputs" / "cat.png")
    app.images.gallery.add(
        png, prompt="a cat", negative_prompt="", parameters="a cat\nSteps: 3, Seed: 1",
        model="tiny", seed=1, width=32, height=32,
    )  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f6")
        from tui.images.gallery_screen import GalleryScreen

        await until(pilot, lambda: isinstance(app.screen, GalleryScreen), "the gallery")
        await until(pilot, lambda: app.screen.selected is not None, "a card")  # type: ignore[attr-defined]
        await pilot.press("c")
        from tui.chat.chat_screen import ChatScreen

        await until(pilot, lambda: isinstance(app.screen, ChatScreen), "back in the chat")
        assert chat(app).query_one(AttachmentBar).paths == [png]


@pytest.mark.slow
async def test_esc_cancels_the_picture_and_nothing_is_saved(
    make_image_app: Callable[..., LocalAIApp], slow_diffusers_spec: ModelSpec, tmp_path: Path
) -> None:
    """A step that does not end (a long native step): Esc in the chat ends the job."""
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        remember_model(slow_diffusers_spec)
        await send(app, pilot, f"/image {slow_prompt(3600, 'never')} --steps 3 --size 64x64")
        flow = chat(app).pictures
        await until(pilot, lambda: flow.job is not None and flow.job.last_step, "step 1")
        assert "Esc cancels" in str(pictures(app)[0].query_one(".picture-caption").render())
        await pilot.press("escape")
        body = pictures(app)[0].query_one(PictureBody)
        await until(
            pilot,
            lambda: "Cancelled; nothing saved" in str(body.query_one(".picture-caption").render()),
            "cancel shown",
        )
        assert not list((tmp_path / "data" / "images").rglob("*.png"))
        conversation = chat(app).conversation_id
        assert conversation is not None
        assert [m.role for m in app.store.messages(conversation)] == []  # type: ignore[attr-defined]
