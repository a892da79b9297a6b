"""Remote image servers through the Images screen: the picker names the server, a job with
progress lands in the gallery, Esc interrupts on the server, a killed server is explained."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input, OptionList, Static, TextArea

from backends.image.png_metadata import read_parameters
from backends.settings import ServerEntry, Settings
from tests.fixtures.a1111_server import A1111TestServer
from tests.fixtures.comfyui_server import ComfyUITestServer
from tests.fixtures.openai_media_server import OpenAIMediaServer
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.images.images_screen import ImagesScreen


def _label(screen: ImagesScreen) -> str:
    return str(screen.query_one("#image-progress-label", Static).render())


def _notes(app: LocalAIApp) -> str:
    return " ".join(f"{n.title}: {n.message}" for n in app._notifications)


async def _pick_remote(pilot, app: LocalAIApp, text: str) -> ImagesScreen:  # noqa: ANN001
    await pilot.press("f5")
    screen = app.screen
    assert isinstance(screen, ImagesScreen)
    await pilot.press("ctrl+o")

    def listed() -> bool:
        options = app.screen.query(OptionList)
        return bool(options) and any(
            text in str(options.first().get_option_at_index(i).prompt)
            for i in range(options.first().option_count)
        )

    await until(pilot, listed, f"{text} in the picker")
    options = app.screen.query_one(OptionList)
    index = next(
        i for i in range(options.option_count) if text in str(options.get_option_at_index(i).prompt)
    )
    options.highlighted = index
    await pilot.press("enter")
    await until(pilot, lambda: screen.session.engine is not None, "the remote model")
    return screen


async def _queue(pilot, screen: ImagesScreen, prompt: str, steps: int) -> None:  # noqa: ANN001
    screen.query_one("#image-prompt", TextArea).text = prompt
    screen.query_one("#image-steps", Input).value = str(steps)
    screen.query_one("#image-width", Input).value = "64"
    screen.query_one("#image-height", Input).value = "64"
    await pilot.press("ctrl+g")


def _with_server(settings: Settings, **entry: object) -> Settings:
    settings.servers = [ServerEntry(**entry)]
    return settings


async def test_a1111_job_with_progress_lands_in_the_gallery(
    make_image_app: Callable[..., LocalAIApp],
    image_settings: Settings,
    a1111_server: A1111TestServer,
    tmp_path: Path,
) -> None:
    _with_server(image_settings, name="forge", base_url=a1111_server.root, kind="a1111")
    a1111_server.hold_at_step = 2
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _pick_remote(pilot, app, "(AUTOMATIC1111 on forge)")
        await until(pilot, lambda: screen._loading is None, "loaded")
        assert "(a1111 on forge)" in str(screen.query_one("#image-model", Static).render())
        await _queue(pilot, screen, "a remote fox", steps=5)
        await until(pilot, lambda: "Step 2/5" in _label(screen), "step 2 of 5 on screen")
        a1111_server.release.set()
        await until(pilot, lambda: screen.last_saved is not None, "the image saved")
        assert _label(screen).startswith("Done in")
        saved = screen.last_saved
        assert saved is not None
        parameters = read_parameters(Path(saved.path)) or ""
        assert "a remote fox" in parameters and "Steps: 5" in parameters
        assert [i.prompt for i in app.images.gallery.images()] == ["a remote fox"]


async def test_escape_interrupts_on_the_server(
    make_image_app: Callable[..., LocalAIApp],
    image_settings: Settings,
    a1111_server: A1111TestServer,
) -> None:
    _with_server(image_settings, name="forge", base_url=a1111_server.root, kind="a1111")
    a1111_server.hold_at_step = 2
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _pick_remote(pilot, app, "on forge")
        await _queue(pilot, screen, "stop me", steps=6)
        await until(pilot, lambda: "Step 2/6" in _label(screen), "step 2")
        await pilot.press("escape")
        await until(pilot, lambda: "nothing saved" in _label(screen), "cancelled")
        assert a1111_server.interrupted.is_set()
        assert app.images.gallery.images() == []


async def test_a_killed_server_mid_job_is_explained_and_the_app_lives(
    make_image_app: Callable[..., LocalAIApp],
    image_settings: Settings,
    a1111_server: A1111TestServer,
) -> None:
    _with_server(image_settings, name="forge", base_url=a1111_server.root, kind="a1111")
    a1111_server.cut_at_step = 3
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _pick_remote(pilot, app, "on forge")
        await _queue(pilot, screen, "doomed", steps=6)
        await until(pilot, lambda: "Connection lost" in _notes(app), "the message")
        assert "forge was cut" in _notes(app)
        assert _label(screen) == "Failed"
        await pilot.press("f1")  # the app still answers keys
        await pilot.press("escape")


async def test_a_server_without_steps_shows_elapsed_time_not_a_bar(
    make_image_app: Callable[..., LocalAIApp],
    image_settings: Settings,
    media_server: OpenAIMediaServer,
) -> None:
    _with_server(image_settings, name="lab", base_url=media_server.base_url)
    media_server.hold_image = True
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _pick_remote(pilot, app, "(OpenAI images on lab)")
        await _queue(pilot, screen, "no steps", steps=4)
        await until(pilot, lambda: "Working on the server" in _label(screen), "the wait")
        from textual.widgets import ProgressBar

        assert screen.query_one("#image-progress", ProgressBar).total is None
        media_server.release.set()
        await until(pilot, lambda: screen.last_saved is not None, "the image")


async def test_the_remote_box_shows_vram_and_unloads(
    make_image_app: Callable[..., LocalAIApp],
    image_settings: Settings,
    comfyui_server: ComfyUITestServer,
) -> None:
    from tui.widgets.remote_box import RemoteBoxGauge

    _with_server(image_settings, name="comfy", base_url=comfyui_server.root, kind="comfyui")
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await until(pilot, lambda: bool(app.screen.query(RemoteBoxGauge)), "the remote box")
        box = app.screen.query_one(RemoteBoxGauge)
        await until(pilot, lambda: box.states != [], "a reading")
        shown = str(box.render())
        assert "comfy (ComfyUI)" in shown and "15.0/25.8 GB" in shown  # 14 of 24 GiB
        box.focus()
        await pilot.press("u")
        await until(pilot, lambda: comfyui_server.freed, "/free on the server")
        await until(pilot, lambda: "unloaded its models" in _notes(app), "the message")


async def test_a_wrong_server_kind_is_explained_in_the_picker(
    make_image_app: Callable[..., LocalAIApp],
    image_settings: Settings,
    comfyui_server: ComfyUITestServer,
) -> None:
    _with_server(image_settings, name="box", base_url=comfyui_server.root, kind="a1111")
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await pilot.press("ctrl+o")

        def hint() -> str:
            hints = app.screen.query("#image-picker-hint")
            return str(hints.first().render()) if hints else ""

        await until(pilot, lambda: "set kind = 'comfyui'" in hint(), "the explanation")
        assert "box (" in hint() and "does not answer like AUTOMATIC1111 / Forge" in hint()


async def test_the_lora_field_offers_the_servers_loras(
    make_image_app: Callable[..., LocalAIApp],
    image_settings: Settings,
    a1111_server: A1111TestServer,
) -> None:
    """A remote A1111 model: the LoRA field lists and completes the server's LoRAs, refuses
    one it lacks, and the job sends the one picked as `<lora:name:weight>`."""
    _with_server(image_settings, name="forge", base_url=a1111_server.root, kind="a1111")
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _pick_remote(pilot, app, "(AUTOMATIC1111 on forge)")
        await until(pilot, lambda: screen._loading is None, "loaded")
        field = screen.query_one("#image-lora", Input)
        note = lambda: str(screen.query_one("#image-lora-note", Static).render())  # noqa: E731
        assert not field.disabled and field.placeholder == "one of 2 LoRAs on the server"
        assert note() == "LoRAs on the server: detail-tweaker, lcm-lora-sdv1.5"
        field.focus()
        await pilot.press(*"nope", "enter")
        await until(pilot, lambda: "no LoRA 'nope'" in note(), "the unknown LoRA refused")
        field.value = ""
        await pilot.press(*"lcm", "right")  # the suggestion completes the server's name
        assert field.value == "lcm-lora-sdv1.5"
        screen.query_one("#image-lora-weight", Input).value = "0.5"
        await _queue(pilot, screen, "a lit fox", steps=2)
        await until(pilot, lambda: screen.last_saved is not None, "the image saved")
        body = next(b for m, p, _, b in a1111_server.requests if p == "/sdapi/v1/txt2img")
        assert body["prompt"] == "a lit fox <lora:lcm-lora-sdv1.5:0.5>"
        parameters = read_parameters(Path(screen.last_saved.path)) or ""
        assert parameters.startswith("a lit fox <lora:lcm-lora-sdv1.5:0.5>")
        assert 'Lora hashes: "lcm-lora-sdv1.5: a1b2c3d4e5f6"' in parameters


async def test_a_cut_after_a_preview_keeps_it_on_screen_and_says_so(
    make_image_app: Callable[..., LocalAIApp],
    image_settings: Settings,
    a1111_server: A1111TestServer,
) -> None:
    from tui.widgets.image_preview import ImagePreview

    _with_server(image_settings, name="forge", base_url=a1111_server.root, kind="a1111")
    a1111_server.hold_at_step, a1111_server.cut_at_step = 2, 3
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _pick_remote(pilot, app, "on forge")
        await _queue(pilot, screen, "half made", steps=6)
        preview = screen.query_one(ImagePreview)
        await until(pilot, lambda: preview.image is not None, "a preview at step 2")
        a1111_server.release.set()
        await until(pilot, lambda: "Connection lost" in _notes(app), "the message")
        assert "cut at step 2/6. The last preview stays on screen" in _notes(app)
        assert preview.image is not None and _label(screen) == "Failed"
        assert app.images.gallery.images() == []


async def test_the_servers_own_out_of_memory_message_is_shown(
    make_image_app: Callable[..., LocalAIApp],
    image_settings: Settings,
    a1111_server: A1111TestServer,
) -> None:
    from tests.fixtures.a1111_server import OOM_TEXT

    _with_server(image_settings, name="forge", base_url=a1111_server.root, kind="a1111")
    a1111_server.oom = True
    app = make_image_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _pick_remote(pilot, app, "on forge")
        await _queue(pilot, screen, "too big", steps=4)
        await until(pilot, lambda: "Out of memory on the server" in _notes(app), "the message")
        assert f"forge ran out of memory: {OOM_TEXT}" in _notes(app)
        assert _label(screen) == "Failed"
