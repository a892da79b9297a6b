"""Image steps per second through the app vs the bare diffusers pipeline, and preview latency.

Builds a random-weight Stable Diffusion pipeline wide enough that one step takes >= 20 ms
(tests/fixtures/tiny_diffusion.py, `--scale`), then in one run, alternating:
- bare: `pipe(prompt, num_inference_steps=N, ...)` with a step callback that only times;
- app: the same request queued on the Images screen of a headless LocalAIApp (Pilot, 120x40),
  steps timed inside the engine's callback as the app runs them.
Prints both rates (steps after the first, over their time), the ratio (target >= 0.95), and
the time from the last step to the picture being on screen (target <= 150 ms).

    python bench/image_steps.py [--scale 8] [--size 128] [--steps 20] [--runs 2]
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
    parser.add_argument("--scale", type=int, default=8, help="UNet width multiplier (default 8)")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--runs", type=int, default=2, help="alternating runs of each (best kept)")
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


def _rate(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0])


def _bare(pipe, args) -> float:  # noqa: ANN001
    import torch

    times: list[float] = []

    def on_step(pipe, i, t, kwargs):  # noqa: ANN001, ANN202
        times.append(time.perf_counter())
        return kwargs

    pipe(
        "a red cat",
        num_inference_steps=args.steps,
        width=args.size,
        height=args.size,
        generator=torch.Generator().manual_seed(1),
        callback_on_step_end=on_step,
    )
    return _rate(times)


async def _app(spec, args) -> tuple[float, float]:  # noqa: ANN001
    from textual.widgets import Input, TextArea

    from backends.settings import load_settings
    from tests.tui.waiting import until
    from tui.app import LocalAIApp
    from tui.widgets.image_preview import ImagePreview

    settings = load_settings()
    settings.images.renderer = "halfcell"
    settings.default_model = "none:no-chat-model"
    app = LocalAIApp(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f5")
        screen = app.images.screen
        screen.load_model(spec)
        await until(pilot, lambda: screen.session.engine is not None, "load", tries=100000)
        engine = screen.session.engine
        times: list[float] = []
        original = engine._run

        def timed_run(runner, request, cancel, stop):  # noqa: ANN001, ANN202
            for event in original(runner, request, cancel, stop):
                if hasattr(event, "step"):
                    times.append(time.perf_counter())
                yield event

        engine._run = timed_run
        screen.query_one("#image-prompt", TextArea).text = "a red cat"
        screen.query_one("#image-steps", Input).value = str(args.steps)
        screen.query_one("#image-width", Input).value = str(args.size)
        screen.query_one("#image-height", Input).value = str(args.size)
        preview = screen.query_one(ImagePreview)
        before = screen.last_saved
        screen.action_generate()
        await until(pilot, lambda: screen.last_saved is not before, "image", tries=100000)
        await until(pilot, lambda: preview.image is not None and preview.children, "preview")
        await pilot.pause()  # the frame with the picture
        shown = time.perf_counter()
        return _rate(times), (shown - times[-1]) * 1000


async def _run(work: Path, args) -> int:  # noqa: ANN001
    from diffusers import AutoPipelineForText2Image

    from backends.base import ModelSpec
    from tests.fixtures.tiny_diffusion import build_tiny_sd_pipeline

    folder = build_tiny_sd_pipeline(work / "bench-sd", scale=args.scale)
    pipe = AutoPipelineForText2Image.from_pretrained(folder, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    _bare(pipe, args)  # warm up
    spec = ModelSpec(key="bench", name="bench-sd", engine="diffusers", path=str(folder))
    bare_rates, app_rates, latencies = [], [], []
    for _ in range(args.runs):
        bare_rates.append(_bare(pipe, args))
        rate, latency = await _app(spec, args)
        app_rates.append(rate)
        latencies.append(latency)
    bare, app = max(bare_rates), max(app_rates)
    print(f"pipeline: scale {args.scale}, {args.size}x{args.size}, {args.steps} steps")
    print(f"bare pipeline : {bare:6.2f} steps/s  ({1000 / bare:.0f} ms/step)")
    print(f"through app   : {app:6.2f} steps/s  ({1000 / app:.0f} ms/step)")
    print(f"ratio app/bare: {app / bare:.3f}  (target >= 0.95)")
    print(
        f"last step -> preview on screen: {statistics.median(latencies):.0f} ms median "
        f"(runs: {', '.join(f'{v:.0f}' for v in latencies)}; target <= 150 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
