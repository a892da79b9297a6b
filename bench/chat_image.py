"""Time from `/image` to the picture in the chat ÷ the same job on the Images screen.

One headless LocalAIApp (Pilot, 120x40), one hosted image model (the random-weight Stable
Diffusion pipeline of tests/fixtures/tiny_diffusion.py, `--scale` wide), loaded once; then,
alternating, the same request (prompt, seed, size, steps, no live preview):
- images: queued on the Images screen (`action_generate`) until its picture is on screen;
- chat: `/image … --steps N --size S --seed 1` submitted in the chat until the picture
  message shows the picture.
Both are polled the same way (10 ms pauses), both end with the saved PNG and gallery row.
Prints the median of each and the ratio chat/images (target <= 1.02). On a shared 2-core
machine single runs swing: use --runs 5.

    python bench/chat_image.py [--scale 4] [--size 128] [--steps 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=4, help="UNet width multiplier (default 4)")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3, help="alternating runs of each")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="localai-bench-"))
    os.environ["LOCALAI_TUI_DATA_DIR"] = str(work / "data")
    os.environ["LOCALAI_TUI_CONFIG"] = str(work / "config.toml")
    os.environ["HF_HOME"] = str(work / "hf")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        return asyncio.run(_run(work, args))
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def _run(work: Path, args) -> int:  # noqa: ANN001
    from textual.widgets import Input, Select, TextArea

    from backends.base import ModelSpec
    from backends.settings import load_settings
    from tests.fixtures.tiny_diffusion import build_tiny_sd_pipeline
    from tests.tui.waiting import until
    from tui.app import LocalAIApp
    from tui.chat.chat_screen import ChatScreen
    from tui.chat.message_images import MessageImages
    from tui.widgets.image_preview import ImagePreview

    MessageImages.renderer = "halfcell"
    folder = build_tiny_sd_pipeline(work / "bench-sd", scale=args.scale)
    spec = ModelSpec(key="bench", name="bench-sd", engine="diffusers", path=str(folder))
    settings = load_settings()
    settings.images.renderer = "halfcell"
    settings.images.live_preview = False
    settings.default_model = "none:no-chat-model"
    app = LocalAIApp(settings)
    wait = 100000
    images_s: list[float] = []
    chat_s: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        await pilot.press("f5")
        screen = app.images.screen
        screen.load_model(spec)
        await until(pilot, lambda: screen.session.engine is not None, "load", tries=wait)
        screen.query_one("#image-prompt", TextArea).text = "a red cat"
        screen.query_one("#image-steps", Input).value = str(args.steps)
        screen.query_one("#image-width", Input).value = str(args.size)
        screen.query_one("#image-height", Input).value = str(args.size)
        screen.query_one("#image-seed-mode", Select).value = "fixed"
        await pilot.pause()
        screen.query_one("#image-seed", Input).value = "1"
        preview = screen.query_one(ImagePreview)
        command = f"/image a red cat --steps {args.steps} --size {args.size}x{args.size} --seed 1"
        for run in range(args.runs + 1):  # the first pair warms up
            screen.last_saved = None
            start = time.perf_counter()
            screen.action_generate()
            await until(pilot, lambda: screen.last_saved is not None, "image", tries=wait)
            await until(pilot, lambda: preview.image is not None, "preview", tries=wait)
            await pilot.pause()  # the frame with the picture
            if run:
                images_s.append(time.perf_counter() - start)

            await pilot.press("f2")  # back to the chat
            await pilot.pause()
            start = time.perf_counter()
            await chat.pictures.run(command)
            await until(
                pilot, lambda n=run: len(chat.query(".picture-image")) > n, "chat", tries=wait
            )
            await pilot.pause()
            if run:
                chat_s.append(time.perf_counter() - start)
            await pilot.press("f5")
            await pilot.pause()
    images, in_chat = statistics.median(images_s), statistics.median(chat_s)
    print(
        f"pipeline: scale {args.scale}, {args.size}x{args.size}, {args.steps} steps, engine "
        f"hosted, no live preview; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"Images screen : {images:6.3f} s median  (runs: {_runs(images_s)})")
    print(f"/image in chat: {in_chat:6.3f} s median  (runs: {_runs(chat_s)})")
    print(f"ratio chat/images: {in_chat / images:.3f}  (target <= 1.02)")
    return 0


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


if __name__ == "__main__":
    raise SystemExit(main())
