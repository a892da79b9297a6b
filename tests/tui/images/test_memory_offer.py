"""On a GPU that cannot hold both, loading an image model offers to unload the chat model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from backends.base import ModelSpec
from backends.device import DeviceMonitor, DeviceSnapshot, GpuSample
from tests.fixtures.scripted_image_engine import SCRIPTED_SPEC
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.images.images_screen import ImagesScreen
from tui.screens.confirm import ConfirmScreen

GB = 1_000_000_000
BIG_IMAGE_MODEL = replace(SCRIPTED_SPEC, size_bytes=8 * GB)


class BusyGpu(DeviceMonitor):
    """One 24 GB card with 20 GB in use (the chat model)."""

    def sample(self) -> DeviceSnapshot:
        gpu = GpuSample(0, "Test GPU", 20 * GB, 24 * GB, 50.0, 60.0, 20 * GB)
        return DeviceSnapshot(GB, 24 * GB, GB, 1.0, gpus=(gpu,))


async def _images(pilot, app: LocalAIApp) -> ImagesScreen:  # noqa: ANN001
    await until(pilot, lambda: app.manager.spec is not None, "chat model loaded")
    await pilot.press("f5")
    screen = app.screen
    assert isinstance(screen, ImagesScreen)
    screen.monitor = BusyGpu()
    return screen


async def test_asks_then_unloads_the_chat_model(
    make_image_app: Callable[..., LocalAIApp], model_a: ModelSpec, scripted_image_engine
) -> None:
    app = make_image_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _images(pilot, app)
        screen.load_model(BIG_IMAGE_MODEL)
        await until(
            pilot,
            lambda: isinstance(app.screen, ConfirmScreen) and app.screen.query("#confirm-question"),
            "the question",
        )
        question = str(app.screen.query_one("#confirm-question").render())
        assert "needs about 9.6 GB of GPU memory and 4.0 GB is free" in question
        assert "Unload the chat model Model A first?" in question

        await pilot.press("y")
        await until(pilot, lambda: screen.session.engine is not None, "image model loaded")

        assert app.manager.spec is None


async def test_load_anyway_keeps_the_chat_model(
    make_image_app: Callable[..., LocalAIApp], model_a: ModelSpec, scripted_image_engine
) -> None:
    app = make_image_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _images(pilot, app)
        screen.load_model(BIG_IMAGE_MODEL)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await until(pilot, lambda: screen.session.engine is not None, "image model loaded")

        assert app.manager.spec is not None


async def test_setting_always_unloads_without_asking(
    make_image_app: Callable[..., LocalAIApp], model_a: ModelSpec, scripted_image_engine
) -> None:
    app = make_image_app(model_a)
    app.settings.images.unload_chat_model = "always"
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _images(pilot, app)
        screen.load_model(BIG_IMAGE_MODEL)
        await until(pilot, lambda: screen.session.engine is not None, "image model loaded")

        assert app.manager.spec is None
        assert not isinstance(app.screen, ConfirmScreen)


async def test_an_image_model_picked_in_the_chat_goes_to_the_images_screen(
    make_image_app: Callable[..., LocalAIApp], model_a: ModelSpec, scripted_image_engine
) -> None:
    app = make_image_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "chat model loaded")
        chat = app.screen
        chat.load_model(SCRIPTED_SPEC)  # what the ctrl+o picker does with its choice
        await until(pilot, lambda: isinstance(app.screen, ImagesScreen), "Images screen")
        screen = app.screen
        await until(pilot, lambda: screen.session.spec == SCRIPTED_SPEC, "loaded there")

        assert app.manager.spec == model_a  # the chat model stays
