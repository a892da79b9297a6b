"""The F9 dialog (attach an image) is a window over the chat: the chat stays visible behind."""

from __future__ import annotations

from collections.abc import Callable

from backends.base import ModelSpec
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.attach_dialog import AttachImageScreen


async def test_the_attach_dialog_shows_the_chat_behind_it(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.engine is not None, "model loaded")
        await pilot.press(*"hi", "enter")
        await until(pilot, lambda: "Hello" in app.export_screenshot(), "the answer")
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, AttachImageScreen), "the dialog")
        await pilot.pause()
        picture = app.export_screenshot()
        assert "Attach&#160;an&#160;image" in picture
        assert "Hello" in picture  # the chat's last answer, behind the dialog
