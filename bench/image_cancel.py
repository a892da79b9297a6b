"""Esc -> image job ended, when a denoising step is long: in-process vs hosted, side by side.

The real tiny diffusers pipeline (tests/fixtures/tiny_diffusion.py) with every denoiser
call after the first sleeping `--step-s` seconds (tests/fixtures/slow_diffusers.py), a
stand-in for one step of SDXL on a CPU (17-20 s at 512x512 here). "Esc" is the cancel
event set as soon as step 1 reaches the caller, so the engine is inside step 2:

- in-process: diffusers looks at the cancel in its step callback, i.e. when the step
  ends (this is what the hosted engine did before too: it waited for the step);
- hosted:     the job ends for the caller at once; the host gets its grace to stop at a
  step boundary, is killed, and the model is loaded again in a new host in the
  background. Also timed: how long the next job, started at once, waited for that
  reload (call -> its first step). Before each cancel the spare host has finished
  importing diffusers (as when a user looks at a few images between cancels); back to
  back, the reload also waits for the spare's imports.

Target (issue 12, D): Esc -> job ended <= 1 s at any step length.

    python bench/image_cancel.py [--runs 3] [--step-s 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODES = ("in-process", "hosted")
TARGET = "tests.fixtures.slow_diffusers:SlowStepDiffusersEngine"


def _engine(mode: str) -> Any:
    if mode == "hosted":
        from backends.image.hosted import HostedImageEngine

        return HostedImageEngine(TARGET, label="slow diffusers")
    from tests.fixtures.slow_diffusers import SlowStepDiffusersEngine

    return SlowStepDiffusersEngine()


def _cancelled_job(engine: Any, step_s: float) -> float:
    """Seconds from the cancel (set at step 1) to the job's end for the caller."""
    from backends.image.protocol import GenerationCancelled, ImageRequest
    from tests.fixtures.slow_diffusers import slow_prompt

    cancel = threading.Event()
    request = ImageRequest(slow_prompt(step_s), steps=4, width=64, height=64)
    cancelled_at = 0.0
    try:
        for _event in engine.generate(request, cancel):
            if not cancel.is_set():
                cancelled_at = time.perf_counter()
                cancel.set()
    except GenerationCancelled:
        return time.perf_counter() - cancelled_at
    raise RuntimeError("the job was not cancelled")


def _next_job(engine: Any) -> float:
    """Seconds from the call to the first step of a normal job (includes any reload wait)."""
    from backends.image.protocol import ImageRequest, ImageResult

    start = time.perf_counter()
    first = 0.0
    for event in engine.generate(ImageRequest("a cat", steps=2, width=64, height=64)):
        if not first:
            first = time.perf_counter() - start
        if isinstance(event, ImageResult):
            return first
    raise RuntimeError("no image")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--step-s", type=float, default=5.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-image-cancel-"))
    os.environ["LOCALAI_TUI_DATA_DIR"] = str(work / "data")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from backends.base import ModelSpec
    from backends.host.spawn import spawner
    from backends.image.protocol import ImageLoadOptions
    from tests.fixtures.tiny_diffusion import build_tiny_sd_pipeline

    model = build_tiny_sd_pipeline(work / "tiny-sd")
    spec = ModelSpec(key=f"slow:{model}", name="tiny-sd", engine="slow_diffusers", path=str(model))
    engines = {mode: _engine(mode) for mode in MODES}
    for engine in engines.values():
        engine.load(spec, ImageLoadOptions())
        _next_job(engine)  # first-job work off the clock
    ended: dict[str, list[float]] = {mode: [] for mode in MODES}
    next_first_step: dict[str, list[float]] = {mode: [] for mode in MODES}
    print(f"load average {os.getloadavg()[0]:.2f} (a shared 2-core machine)")
    print(f"step length {args.step_s:g} s; Esc at step 1 of 4; {args.runs} runs, interleaved")
    try:
        for run in range(args.runs):
            for mode in MODES if run % 2 == 0 else MODES[::-1]:
                spawner.wait_for_spare()
                ended[mode].append(_cancelled_job(engines[mode], args.step_s))
                next_first_step[mode].append(_next_job(engines[mode]))
                print(
                    f"  run {run + 1} {mode:10s} Esc -> ended {ended[mode][-1] * 1000:8.1f} ms"
                    f"   next job's first step after {next_first_step[mode][-1] * 1000:6.0f} ms",
                    flush=True,
                )
    finally:
        for engine in engines.values():
            engine.unload()
    med = {mode: statistics.median(ended[mode]) for mode in MODES}
    nxt = {mode: statistics.median(next_first_step[mode]) for mode in MODES}
    print()
    for mode in MODES:
        print(
            f"{mode:10s} Esc -> job ended {med[mode] * 1000:8.1f} ms (median)   "
            f"next job's first step {nxt[mode] * 1000:6.0f} ms"
        )
    print(f"hosted ÷ in-process (Esc -> ended)  {med['hosted'] / med['in-process']:.4f}")
    print(f"hosted Esc -> ended {med['hosted'] * 1000:.1f} ms (target <= 1 s at any step length)")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
