"""A chat model switch after an image model was loaded: hosted ÷ in-process.

What one warm spare host per engine kind buys. The user chats (llama.cpp), opens Images
and loads an image model (diffusers), then switches the chat model. With one spare for
the whole app, the image load took it (warm for diffusers), so the chat switch started a
host and imported llama_cpp again; with a spare per kind, the llama.cpp spare is still
there. Per round, in one process, alternating which goes first:

- in-process: `ModelManager.switch` with in-process engines (runtimes imported before);
- hosted: the same with hosted engines, as the app runs them.

Each round: chat loads the SmolLM2 demo (or a fixture GGUF), an image engine of the same
mode loads a tiny diffusers pipeline, the spares settle (a user reads between actions),
then the timed chat switch to a tiny Q8_0 GGUF; everything is unloaded at the end.
For the "before" figure, run it on the code before the change:

    python bench/spare_kinds.py [--runs 5]
    LOCALAI_TUI_CODE=/work/main PYTHONPATH=/work/main python bench/spare_kinds.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# LOCALAI_TUI_CODE=/path/to/another/checkout measures that code (e.g. main, for "before").
ROOT = Path(os.environ.get("LOCALAI_TUI_CODE") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))

MODES = ("in-process", "hosted")


def _settle() -> None:
    """Wait until the spare hosts have started and imported their runtimes."""
    from backends.host.spawn import spawner

    spawner.wait_for_spare()
    time.sleep(0.3)  # a cold spare's own imports


def one_round(mode: str, chat: tuple[Any, Any], image: Any, work: Path) -> float:
    from backends.base import LoadOptions
    from backends.image.protocol import ImageLoadOptions
    from backends.models.manager import ModelManager
    from backends.registry import create_engine, create_image_engine
    from backends.settings import load_settings

    hosted = mode == "hosted"
    options = LoadOptions(n_ctx=1024)
    manager = ModelManager(
        load_settings(),
        recents_path=work / f"recent-{mode}.json",
        engine_factory=lambda _name: create_engine("llama_cpp", hosted=hosted),
    )
    images = create_image_engine("diffusers", hosted=hosted)
    try:
        manager.switch(chat[0], options)
        _settle()
        images.load(image, ImageLoadOptions())
        _settle()
        start = time.perf_counter()
        manager.switch(chat[1], options)
        return time.perf_counter() - start
    finally:
        images.unload()
        manager.unload()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="localai-bench-kinds-"))
    os.environ["LOCALAI_TUI_DATA_DIR"] = str(work / "data")
    os.environ["LOCALAI_TUI_CONFIG"] = str(work / "config.toml")
    os.environ["HF_HOME"] = str(work / "hf")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        from backends.base import ModelSpec
        from backends.chat.llama_native import quiet_llama_cpp
        from backends.models.catalog import demo_spec
        from tests.fixtures.tiny_diffusion import build_tiny_sd_pipeline
        from tests.fixtures.tiny_models import build_tiny_gguf

        tiny_path = build_tiny_gguf(work / "tiny-q8_0.gguf", quantization="Q8_0")
        tiny = ModelSpec(
            key=f"gguf:{tiny_path}", name="tiny Q8_0", engine="llama_cpp", path=str(tiny_path)
        )
        chat = (demo_spec() or tiny, tiny)
        folder = build_tiny_sd_pipeline(work / "tiny-sd")
        image = ModelSpec(key="bench-sd", name="tiny-sd", engine="diffusers", path=str(folder))
        quiet_llama_cpp()  # in-process runtimes imported before any timing
        from backends.image.diffusers_pipeline import import_runtime

        import_runtime()
        times: dict[str, list[float]] = {mode: [] for mode in MODES}
        for run in range(args.runs + 1):  # the first round warms caches: not counted
            for mode in MODES if run % 2 == 0 else MODES[::-1]:
                seconds = one_round(mode, chat, image, work)
                if run:
                    times[mode].append(seconds)
            if run:
                print(
                    f"round {run}: "
                    + "  ".join(f"{m} {times[m][-1] * 1000:5.0f} ms" for m in MODES),
                    flush=True,
                )
        med = {mode: statistics.median(values) for mode, values in times.items()}
        print(
            f"chat switch after an image load, median of {args.runs}: in-process "
            f"{med['in-process'] * 1000:.0f} ms, hosted {med['hosted'] * 1000:.0f} ms; "
            f"hosted ÷ in-process {med['hosted'] / med['in-process']:.2f} "
            f"(load average {os.getloadavg()[0]:.1f})"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
