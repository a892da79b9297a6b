"""Remote transcription through the app vs a bare HTTP client, against the same test server.

The server is the OpenAI-speaking test server (tests/fixtures/openai_media_server.py) in its
own process, taking a fixed time per transcription (`--server-ms`, default 500 ms) and
answering `verbose_json` for a 3.2 s clip. In one run, alternating:
- bare: one `httpx` multipart POST to /v1/audio/transcriptions;
- app: the file transcribed on the Speech screen of a headless LocalAIApp (Pilot, 120x40),
  segments shown as users see them; timed from the screen's transcribe call (what Enter on
  the file runs) to its "Done:" line.
Prints the real-time factor of each (seconds of work per second of audio) and the ratio
app/bare (target <= 1.03).

    python bench/remote_speech.py [--server-ms 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
AUDIO_S = 3.2  # what the test server says the clip lasts

SERVER = """
import sys, threading
sys.path.insert(0, {root!r})
from tests.fixtures.openai_media_server import OpenAIMediaServer
server = OpenAIMediaServer()
server.transcribe_delay_s = {delay!r}
print(server.port, flush=True)
threading.Event().wait()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-ms", type=float, default=500.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="localai-bench-"))
    os.environ["LOCALAI_TUI_DATA_DIR"] = str(work / "data")
    os.environ["LOCALAI_TUI_CONFIG"] = str(work / "config.toml")
    os.environ["HF_HUB_OFFLINE"] = "1"
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(root=str(ROOT), delay=args.server_ms / 1000)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        base_url = f"http://127.0.0.1:{int(child.stdout.readline())}/v1"
        audio = work / "clip.wav"
        audio.write_bytes(b"RIFF" + bytes(64_000))
        return asyncio.run(_run(args, base_url, audio))
    finally:
        child.terminate()
        child.wait()
        shutil.rmtree(work, ignore_errors=True)


def _bare(base_url: str, audio: Path) -> float:
    import httpx

    with httpx.Client(base_url=base_url + "/", timeout=600) as client:
        started = time.perf_counter()
        answer = client.post(
            "audio/transcriptions",
            data={"model": "whisper-1", "response_format": "verbose_json"},
            files={"file": (audio.name, audio.read_bytes(), "application/octet-stream")},
        ).json()
        assert answer["segments"]
        return time.perf_counter() - started


async def _run(args: argparse.Namespace, base_url: str, audio: Path) -> int:
    from backends.settings import load_settings
    from tests.tui.waiting import until
    from tui.app import LocalAIApp
    from tui.speech.speech_screen import SpeechScreen

    settings = load_settings(
        servers=[{"name": "lab", "base_url": base_url}],
        speech={"model": "openai_stt:lab/whisper-1"},
    )
    settings.default_model = "none:no-chat-model"
    # No pre-started spare engine host: it imports torch (seconds of CPU) while the jobs run,
    # and a remote job needs no local engine.
    from backends.host.spawn import set_keep_spare

    set_keep_spare(False)
    app = LocalAIApp(settings)
    bare: list[float] = []
    through: list[float] = []
    finished = asyncio.Event()  # awaited, not polled: polling takes CPU from the work
    ended: dict[str, float] = {}
    from tui.speech.transcribe_panel import TranscribePanel

    # The status line is set through `status`; its "Done:" line ends a run. (Hooking the
    # @on handler itself does not work: Textual keeps the function it decorated.)
    on_status = TranscribePanel.status

    def hooked(self, text):  # noqa: ANN001, ANN202
        on_status(self, text)
        if text.startswith("Done:"):
            ended["at"] = time.perf_counter()
            finished.set()

    TranscribePanel.status = hooked  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("f7")
            await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "speech screen")
            screen = app.screen
            assert isinstance(screen, SpeechScreen)
            for run in range(args.runs + 1):  # the first loads the model: a warm-up
                if run:
                    bare.append(_bare(base_url, audio))
                finished.clear()
                started = time.perf_counter()
                screen.transcribe(str(audio), audio.name)  # what Enter on the file runs
                await asyncio.wait_for(finished.wait(), timeout=600)
                if run:
                    through.append(ended["at"] - started)
    finally:
        TranscribePanel.status = on_status  # type: ignore[method-assign]
    b, a = statistics.median(bare), statistics.median(through)
    print(
        f"test server: {args.server_ms:.0f} ms per transcription of a {AUDIO_S} s clip; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"bare httpx POST : RTF {b / AUDIO_S:.3f}  ({', '.join(f'{t:.3f}' for t in bare)} s)")
    print(f"through the app : RTF {a / AUDIO_S:.3f}  ({', '.join(f'{t:.3f}' for t in through)} s)")
    print(f"ratio app/bare  : {a / b:.3f}  (target <= 1.03)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
