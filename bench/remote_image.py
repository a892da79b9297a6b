"""A remote image job through the app vs a bare HTTP client, against the same test server.

The server is the AUTOMATIC1111-speaking test server (tests/fixtures/a1111_server.py) with a
fixed time per step (`--step-ms`, default 50 ms x 20 steps = 1 s of "GPU" per image), run in
its own process as a real server is (in this process it would share the GIL with the app's
UI thread and slow down whenever the screen paints). In one run, alternating:
- bare: one `httpx` POST to /sdapi/v1/txt2img, the PNG decoded from the answer;
- app: the same request queued on the Images screen of a headless LocalAIApp (Pilot, 120x40),
  polling /progress for steps and previews as users see it; timed from the queueing to the
  finished picture on screen. The PNG with its A1111 parameters and the gallery row are
  written after that, in the background (the next job does not wait for them); the time to
  the saved row is printed too, and each run waits for it before the next.
Prints the median of each and the ratio app/bare (target <= 1.02).

    python bench/remote_image.py [--steps 20] [--step-ms 50] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
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
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--step-ms", type=float, default=50.0, help="server time per step")
    parser.add_argument("--size", type=int, default=512, help="image side in pixels")
    parser.add_argument("--runs", type=int, default=5, help="alternating runs of each")
    parser.add_argument("--no-live-preview", action="store_true", help="no previews while it runs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="localai-bench-"))
    os.environ["LOCALAI_TUI_DATA_DIR"] = str(work / "data")
    os.environ["LOCALAI_TUI_CONFIG"] = str(work / "config.toml")
    os.environ["HF_HOME"] = str(work / "hf")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        return asyncio.run(_run(args))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _body(args: argparse.Namespace, seed: int) -> dict[str, object]:
    from backends.image.a1111_engine import request_body
    from backends.image.protocol import ImageRequest
    from tests.fixtures.a1111_server import CHECKPOINT

    request = ImageRequest(
        "a red fox", steps=args.steps, seed=seed, width=args.size, height=args.size
    )
    return request_body(request, CHECKPOINT)


def _bare(root: str, args: argparse.Namespace, seed: int) -> float:
    import httpx
    from PIL import Image

    with httpx.Client(base_url=root, timeout=600) as client:
        started = time.perf_counter()
        answer = client.post("/sdapi/v1/txt2img", json=_body(args, seed)).json()
        Image.open(io.BytesIO(base64.b64decode(answer["images"][0]))).load()
        return time.perf_counter() - started


async def _app(spec, args: argparse.Namespace, root: str):  # noqa: ANN001, ANN201
    """Bare times, app times to the picture and to the saved row, alternating, in one app
    (its first job, which imports the PNG writer and creates the gallery, is a warm-up and
    not counted)."""
    from textual.widgets import Input, TextArea

    from backends.settings import load_settings
    from tests.tui.waiting import until
    from tui.app import LocalAIApp
    from tui.images.image_job_runner import ImageJobRunner

    marks: dict[str, float] = {}
    finished = asyncio.Event()  # awaited, not polled: polling would take CPU from the job
    on_end = ImageJobRunner.on_image_job_runner_job_ended
    show = ImageJobRunner._show_picture

    async def shown(self, job, result):  # noqa: ANN001, ANN202
        await show(self, job, result)
        marks.setdefault("shown", time.perf_counter())
        finished.set()

    async def ended(self, message):  # noqa: ANN001, ANN202
        marks["ended"] = time.perf_counter()
        await on_end(self, message)

    ImageJobRunner.on_image_job_runner_job_ended = ended  # type: ignore[method-assign]
    ImageJobRunner._show_picture = shown  # type: ignore[method-assign]
    settings = load_settings()
    settings.images.renderer = "halfcell"
    settings.images.live_preview = not args.no_live_preview
    settings.default_model = "none:no-chat-model"
    # No pre-started spare engine host: it imports torch (seconds of CPU) while the jobs run,
    # and a remote job needs no local engine.
    from backends.host.spawn import set_keep_spare

    set_keep_spare(False)
    app = LocalAIApp(settings)
    times: list[float] = []
    saved: list[float] = []
    bare: list[float] = []
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("f5")
            screen = app.images.screen
            screen.load_model(spec)
            await until(pilot, lambda: screen.session.engine is not None, "load", tries=100000)
            screen.query_one("#image-prompt", TextArea).text = "a red fox"
            screen.query_one("#image-steps", Input).value = str(args.steps)
            screen.query_one("#image-width", Input).value = str(args.size)
            screen.query_one("#image-height", Input).value = str(args.size)
            for run in range(args.runs + 1):
                if run:
                    bare.append(_bare(root, args, run))
                screen.last_saved = None
                finished.clear()
                marks.clear()
                started = time.perf_counter()
                screen.action_generate()
                await asyncio.wait_for(finished.wait(), timeout=600)
                await until(pilot, lambda: screen.last_saved is not None, "saved", tries=100000)
                if run:
                    times.append(marks["shown"] - started)
                    saved.append(marks["ended"] - started)
    finally:
        ImageJobRunner.on_image_job_runner_job_ended = on_end  # type: ignore[method-assign]
        ImageJobRunner._show_picture = show  # type: ignore[method-assign]
    return bare, times, saved


SERVER = """
import sys, threading
sys.path.insert(0, {root!r})
from tests.fixtures.a1111_server import A1111TestServer
server = A1111TestServer()
server.step_delay_s = {delay!r}
print(server.port, flush=True)
threading.Event().wait()
"""


async def _run(args: argparse.Namespace) -> int:
    import subprocess

    from backends.base import ModelSpec, ServerConfig
    from tests.fixtures.a1111_server import CHECKPOINT

    child = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(root=str(ROOT), delay=args.step_ms / 1000)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        root = f"http://127.0.0.1:{port}"
        server = ServerConfig(name="forge", base_url=root, kind="a1111")
        spec = ModelSpec(
            key=f"a1111:forge/{CHECKPOINT}",
            name=CHECKPOINT,
            engine="a1111",
            source="server",
            server=server,
            remote_model=CHECKPOINT,
        )
        _bare(root, args, 0)  # warm up
        bare, app, saved = await _app(spec, args, root)
    finally:
        child.terminate()
        child.wait()
    ideal = args.steps * args.step_ms / 1000
    b, a = statistics.median(bare), statistics.median(app)
    print(
        f"A1111 test server: {args.steps} steps x {args.step_ms:.0f} ms = {ideal:.2f} s per image, "
        f"{args.size}x{args.size}, live preview {'off' if args.no_live_preview else 'on'}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"bare httpx POST : {b:6.3f} s median  (runs: {', '.join(f'{t:.3f}' for t in bare)})")
    print(f"through the app : {a:6.3f} s median  (runs: {', '.join(f'{t:.3f}' for t in app)})")
    s = statistics.median(saved)
    print(
        f"  ... PNG + row written (background, off the path): {s:6.3f} s median "
        f"(runs: {', '.join(f'{t:.3f}' for t in saved)})"
    )
    print(f"ratio app/bare  : {a / b:.3f}  (target <= 1.02); to the saved row {s / b:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
