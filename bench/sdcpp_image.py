"""stable-diffusion.cpp end to end: one image from a full-shape SD 1.5 checkpoint (random
weights, quantized; bench/sdcpp_checkpoint.py builds it in ~/.cache/localai-tui-bench),
through the app, and its time per step ÷ the bare library's.

Per round, alternating which goes first:
- bare: `StableDiffusion(model_path=gguf, n_threads=cores - 1)` then `generate_image(...)`
        with a progress callback that only takes the time (the engine's own formula:
        steps after the first, over their time: at 2 steps, the second step); closed
        before the app's turn, so only one copy of the model is in memory;
- app:  the headless app (Pilot, 120x40) on the Images screen: the model loaded in its
        hosted sd.cpp engine, the same request queued, the picture shown, then the gallery
        PNG written with its A1111 parameters (checked: the file exists, its `parameters`
        chunk names the prompt, steps, seed and the model).
Prints both times per step, their ratio (app ÷ bare; target <= 1.05), the load times and
the end-to-end time (ctrl+g -> PNG saved). Not a CI test: the checkpoint is ~0.6 GB and
an image takes tens of seconds on 2 cores.

    python bench/sdcpp_image.py [--size 128] [--steps 2] [--runs 1] [--type q4_0]
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PROMPT = "a lighthouse on a cliff at dusk"
SEED = 7


def _threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)  # what the engine picks (sdcpp_engine.py)


def bare(path: Path, args: argparse.Namespace) -> dict[str, float]:
    """The library alone: load, one image, close; seconds per step and the load time."""
    from stable_diffusion_cpp import StableDiffusion

    from backends.image.sdcpp_engine import forget_progress_callback

    started = time.perf_counter()
    sd = StableDiffusion(model_path=str(path), n_threads=_threads(), verbose=False)
    loaded = time.perf_counter()
    times: list[float] = []
    try:
        images = sd.generate_image(
            prompt=PROMPT,
            width=args.size,
            height=args.size,
            sample_steps=args.steps,
            cfg_scale=7.0,
            seed=SEED,
            # Step 0 comes before the first step; the engine times the steps after the
            # first over their own time, and so does this.
            progress_callback=lambda step, _n, _t: step > 0 and times.append(time.perf_counter()),
        )
        done = time.perf_counter()
        assert images and images[0].size == (args.size, args.size)
    finally:
        forget_progress_callback()  # else the next load in this process crashes
        sd.close()
    return {
        "load_s": loaded - started,
        "step_s": (times[-1] - times[0]) / (len(times) - 1),
        "image_s": done - loaded,
    }


async def app(path: Path, args: argparse.Namespace) -> dict[str, float]:
    """The app: hosted engine, Images job runner, picture on screen, gallery PNG."""
    from PIL import Image
    from textual.widgets import Input, Select, Static, TextArea

    from backends.base import ModelSpec
    from backends.settings import load_settings
    from tests.tui.waiting import until
    from tui.app import LocalAIApp
    from tui.widgets.image_preview import ImagePreview

    settings = load_settings()
    settings.images.renderer = "halfcell"
    settings.default_model = "none:no-chat-model"
    spec = ModelSpec(key=f"gguf:{path}", name=path.name, engine="sdcpp", path=str(path))
    the_app = LocalAIApp(settings)
    async with the_app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f5")
        screen = the_app.images.screen
        started = time.perf_counter()
        screen.load_model(spec)
        await until(pilot, lambda: screen.session.engine is not None, "load", tries=10**6)
        loaded = time.perf_counter()
        screen.query_one("#image-prompt", TextArea).text = PROMPT
        screen.query_one("#image-steps", Input).value = str(args.steps)
        screen.query_one("#image-width", Input).value = str(args.size)
        screen.query_one("#image-height", Input).value = str(args.size)
        screen.query_one("#image-seed-mode", Select).value = "fixed"
        seed = screen.query_one("#image-seed", Input)
        seed.disabled, seed.value = False, str(SEED)
        screen.action_generate()
        job = screen.queue.pending()[0]
        preview = screen.query_one(ImagePreview)
        await until(
            pilot,
            lambda: preview.image is not None or job.state in ("failed", "cancelled"),
            "picture",
            tries=10**6,
        )
        if preview.image is None:
            problem = screen.query_one("#image-problem", Static).render()
            raise RuntimeError(f"the job {job.state}: {problem}")
        shown = time.perf_counter()
        await until(pilot, lambda: screen.last_saved is not None, "saved", tries=10**6)
        saved_at = time.perf_counter()
        saved = screen.last_saved
        assert saved is not None and job.last_step is not None
        with Image.open(saved.path) as png:
            parameters = png.info.get("parameters", "")
            size = png.size
        for expected in (PROMPT, f"Steps: {args.steps}", f"Seed: {SEED}", f"Model: {path.name}"):
            if expected not in parameters:
                raise AssertionError(f"{expected!r} missing from the PNG's parameters")
        assert size == (args.size, args.size), size
        rate = job.last_step.steps_per_s
        assert rate, "the engine reported no step rate"
        screen.session.unload()
        return {
            "load_s": loaded - started,
            "step_s": 1 / rate,
            "shown_s": shown - loaded,
            "saved_s": saved_at - loaded,
            "png": saved.path,  # type: ignore[dict-item]
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128, help="image side (default 128)")
    parser.add_argument("--steps", type=int, default=2, help="denoising steps (default 2)")
    parser.add_argument("--runs", type=int, default=1, help="paired rounds (default 1)")
    parser.add_argument("--type", default="q4_0", help="checkpoint weight type (default q4_0)")
    args = parser.parse_args()
    from sdcpp_checkpoint import full_shape_checkpoint

    checkpoint = full_shape_checkpoint(weight_type=args.type)
    work = Path(tempfile.mkdtemp(prefix="localai-bench-sdcpp-"))
    os.environ["LOCALAI_TUI_DATA_DIR"] = str(work / "data")
    os.environ["LOCALAI_TUI_CONFIG"] = str(work / "config.toml")
    os.environ["HF_HOME"] = str(work / "hf")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        return _run(checkpoint, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(checkpoint: Path, args: argparse.Namespace) -> int:
    results: dict[str, list[dict[str, Any]]] = {"bare": [], "app": []}
    for n in range(args.runs):
        order = ("bare", "app") if n % 2 == 0 else ("app", "bare")
        for mode in order:
            if mode == "bare":
                results[mode].append(bare(checkpoint, args))
            else:
                results[mode].append(asyncio.run(app(checkpoint, args)))
            got = results[mode][-1]
            print(f"  {mode}: {got['step_s']:.2f} s/step, load {got['load_s']:.1f} s", flush=True)
        b, a = results["bare"][-1], results["app"][-1]
        print(
            f"round {n + 1}: bare {b['step_s']:.2f} s/step, app {a['step_s']:.2f} s/step "
            f"(ratio {a['step_s'] / b['step_s']:.3f}); load bare {b['load_s']:.1f} s, "
            f"app {a['load_s']:.1f} s; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    med = {
        m: {k: statistics.median(r[k] for r in rs) for k in ("load_s", "step_s")}
        for m, rs in results.items()
    }
    size_mb = checkpoint.stat().st_size / 1e6
    print(
        f"\n{checkpoint.name} ({size_mb:.0f} MB, full-shape SD 1.5, random weights), "
        f"{args.size}x{args.size}, {args.steps} steps, {_threads()} thread(s)"
    )
    print(f"bare library : {med['bare']['step_s']:.2f} s/step, load {med['bare']['load_s']:.1f} s")
    print(f"through app  : {med['app']['step_s']:.2f} s/step, load {med['app']['load_s']:.1f} s")
    ratio = med["app"]["step_s"] / med["bare"]["step_s"]
    print(f"time per step app ÷ bare: {ratio:.3f}  (target <= 1.05; {args.runs} paired run(s))")
    last = results["app"][-1]
    print(
        f"app: ctrl+g -> picture on screen {last['shown_s']:.1f} s, -> PNG saved "
        f"{last['saved_s']:.1f} s ({last['png']}, A1111 parameters checked)"
    )
    print(f"load average {os.getloadavg()[0]:.1f} (a shared machine: read ratios, not times)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
