"""Model switch time vs a bare engine load, and whether unloading gives the memory back.

For llama.cpp (the SmolLM2 demo GGUF, or a fixture-built GGUF when the demo is missing) and
transformers (a fixture-built Llama, ~140 MB of float32 weights), each measurement runs in
a fresh subprocess, interleaved and in alternating order:

- bare:    `engine.load(spec)` alone;
- manager: `ModelManager.switch(spec)` while a small model of the same engine is loaded
           (load the new one, then unload the previous one, remember it in recents);
- ui:      the real app, headless: `ChatScreen.load_model(spec)` until the status says
           ready (ModelLoader worker -> ModelManager.switch -> Loaded message).

The runtime (llama_cpp, or torch + transformers) is imported before the clock starts in
all three, and the bare run first loads and unloads the small model too (as a switch has:
transformers imports a model's code on its first load), so times compare loading only.
transformers maps safetensors lazily: its "load" reads little; the first answer pages the
weights in (the RSS "loaded" figure is taken after an 8-token answer for that reason).
The bare subprocess also reads its RSS before the load, after it, after unload, and after
a second load/unload cycle.
Targets: switch ÷ bare load <= 1.1; RSS after unload within 10 % of RSS before load.

    /work/venv/bin/python bench/model_switch.py [--runs 5] [--engine llama_cpp|transformers]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# A transformers model big enough that loading it takes measurable time (~35 M params).
TRANSFORMERS_SHAPE = {"HIDDEN": 512, "LAYERS": 8, "FFN": 2048, "HEADS": 8}


@contextlib.contextmanager
def _fixture_shape(**shape: int) -> Iterator[Any]:
    """tiny_models with its module-level shape constants changed for the duration."""
    from tests.fixtures import tiny_models

    saved = {name: getattr(tiny_models, name) for name in shape}
    for name, value in shape.items():
        setattr(tiny_models, name, value)
    try:
        yield tiny_models
    finally:
        for name, value in saved.items():
            setattr(tiny_models, name, value)


# -- child processes: one measurement each, a JSON line on stdout ----------------------------


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _spec(data: dict[str, Any]) -> Any:
    from backends.base import ModelSpec

    return ModelSpec(**data)


def _import_runtime(engine: str) -> None:
    if engine == "llama_cpp":
        from backends.chat.llama_native import quiet_llama_cpp

        quiet_llama_cpp()
    else:
        import torch  # noqa: F401
        from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: F401


def _answer(engine: Any) -> None:
    from backends.base import ChatMessage, GenerationParams

    for _ in engine.stream([ChatMessage("user", "Hi")], GenerationParams(max_new_tokens=8)):
        pass


def child_bare(target: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    import gc

    from backends.registry import create_engine
    from backends.settings import load_settings

    spec = _spec(target)
    options = load_settings().load_options_for(spec.key)
    _import_runtime(spec.engine)
    # Like a switch: the previous model was loaded and unloaded before, which also runs
    # the runtime's first-load work (transformers imports the model's code lazily).
    # In this process: the bare engine load that a hosted switch (manager, ui) is held to.
    warm = create_engine(spec.engine, hosted=False)
    warm.load(_spec(previous), options)
    warm.unload()
    del warm
    gc.collect()
    engine = create_engine(spec.engine, hosted=False)
    rss = {"before": _rss()}
    start = time.perf_counter()
    engine.load(spec, options)
    load_s = time.perf_counter() - start
    _answer(engine)  # weights that are mapped but never read are not resident yet
    rss["loaded"] = _rss()
    start = time.perf_counter()
    engine.unload()
    unload_s = time.perf_counter() - start
    rss["unloaded"] = _rss()
    engine.load(spec, options)
    _answer(engine)
    engine.unload()
    rss["unloaded_twice"] = _rss()
    return {"seconds": load_s, "unload_seconds": unload_s, "rss": rss}


def child_manager(target: dict[str, Any], previous: dict[str, Any], work: str) -> dict[str, Any]:
    from backends.models.manager import ModelManager
    from backends.settings import load_settings

    _import_runtime(target["engine"])
    manager = ModelManager(load_settings(), recents_path=Path(work) / "recent.json")
    manager.switch(_spec(previous))
    start = time.perf_counter()
    manager.switch(_spec(target))
    seconds = time.perf_counter() - start
    manager.unload()
    return {"seconds": seconds}


def child_ui(target: dict[str, Any], previous: dict[str, Any], work: str) -> dict[str, Any]:
    from backends.models.manager import ModelManager
    from backends.settings import load_settings
    from backends.store.conversations import ConversationStore
    from tui.app import LocalAIApp
    from tui.chat.chat_screen import ChatScreen

    _import_runtime(target["engine"])
    settings = load_settings()
    app = LocalAIApp(
        settings,
        store=ConversationStore(Path(work) / "conversations.sqlite3"),
        manager=ModelManager(settings, recents_path=Path(work) / "recent.json"),
        startup_model=_spec(previous),
    )
    result: dict[str, Any] = {}

    async def drive() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, ChatScreen)
            await _until(lambda: app.manager.spec is not None and "ready" in screen.status.text)
            await pilot.pause()
            start = time.perf_counter()
            screen.load_model(_spec(target))
            await _until(
                lambda: (
                    app.manager.spec is not None
                    and app.manager.spec.key == target["key"]
                    and screen.status.text.endswith("ready")
                )
            )
            result["seconds"] = time.perf_counter() - start

    asyncio.run(drive())
    return result


async def _until(condition: Any, timeout: float = 120) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.01)


# -- parent ------------------------------------------------------------------------------------


def _spec_dict(key: str, name: str, engine: str, path: Path) -> dict[str, Any]:
    return {"key": key, "name": name, "engine": engine, "path": str(path)}


def build_models(
    work: Path, engines: list[str]
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """engine -> (target model, a small previous model to switch away from)."""
    from tests.fixtures.tiny_models import build_tiny_gguf, build_tiny_llama

    models: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    if "llama_cpp" in engines:
        from backends.models.catalog import demo_spec

        demo = demo_spec()
        if demo is not None:
            target = _spec_dict(demo.key, demo.name, "llama_cpp", Path(demo.path or ""))
        else:
            with _fixture_shape(HIDDEN=512, LAYERS=8, FFN=2048, HEADS=8) as tiny_models:
                path = tiny_models.build_tiny_gguf(work / "big.gguf")
            target = _spec_dict(f"gguf:{path}", "big.gguf", "llama_cpp", path)
        small = build_tiny_gguf(work / "small.gguf")
        models["llama_cpp"] = (target, _spec_dict(f"gguf:{small}", "small", "llama_cpp", small))
    if "transformers" in engines:
        with _fixture_shape(**TRANSFORMERS_SHAPE) as tiny_models:
            big = tiny_models.build_tiny_llama(work / "big-llama")
        small = build_tiny_llama(work / "small-llama")
        models["transformers"] = (
            _spec_dict(f"path:{big}", "big-llama", "transformers", big),
            _spec_dict(f"path:{small}", "small-llama", "transformers", small),
        )
    return models


def _child(mode: str, target: dict[str, Any], previous: dict[str, Any], work: Path) -> Any:
    run_dir = Path(tempfile.mkdtemp(dir=work))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOCALAI_TUI_CONFIG": str(run_dir / "config.toml"),
        "LOCALAI_TUI_DATA_DIR": str(run_dir / "data"),
        "HF_HOME": str(run_dir / "hf"),
        "HF_HUB_OFFLINE": "1",
    }
    argv = [sys.executable, __file__, "--child", mode, json.dumps([target, previous, str(run_dir)])]
    out = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mb(n: float) -> str:
    return f"{n / 1e6:7.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--engine", action="append", choices=["llama_cpp", "transformers"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, payload = args.child
        target, previous, work = json.loads(payload)
        if mode == "bare":
            result = child_bare(target, previous)
        elif mode == "manager":
            result = child_manager(target, previous, work)
        else:
            result = child_ui(target, previous, work)
        print(json.dumps(result))
        return 0

    engines = args.engine or ["llama_cpp", "transformers"]
    work = Path(tempfile.mkdtemp(prefix="localai-bench-switch-"))
    try:
        return _run(work, engines, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, engines: list[str], runs: int) -> int:
    models = build_models(work, engines)
    ok = True
    for engine, (target, previous) in models.items():
        size = sum(f.stat().st_size for f in Path(target["path"]).rglob("*") if f.is_file()) or (
            Path(target["path"]).stat().st_size
        )
        print(
            f"{engine}: {target['name']} ({size / 1e6:.0f} MB), switching from {previous['name']}"
        )
        times: dict[str, list[float]] = {"bare": [], "manager": [], "ui": []}
        rss: list[dict[str, int]] = []
        modes = list(times)
        for round_ in range(runs):
            for mode in modes if round_ % 2 == 0 else modes[::-1]:
                result = _child(mode, target, previous, work)
                times[mode].append(result["seconds"])
                if mode == "bare":
                    rss.append(result["rss"])
            print(
                f"  round {round_ + 1}: "
                + "  ".join(f"{m} {times[m][-1] * 1000:6.0f} ms" for m in modes),
                flush=True,
            )
        med = {m: statistics.median(v) for m, v in times.items()}
        r = {k: statistics.median(x[k] for x in rss) for k in rss[0]}
        after = r["unloaded"] / r["before"]
        print(f"  bare load (median of {runs})      : {med['bare'] * 1000:6.0f} ms")
        for mode in ("manager", "ui"):
            ratio = med[mode] / med["bare"]
            ok &= ratio <= 1.1
            print(f"  {mode:7s} switch ÷ bare load     : {ratio:6.2f}  (target <= 1.1)")
        print(
            f"  RSS before {_mb(r['before'])}, loaded {_mb(r['loaded'])}, unloaded "
            f"{_mb(r['unloaded'])}, after a 2nd load/unload {_mb(r['unloaded_twice'])}"
        )
        print(f"  RSS after unload ÷ before load   : {after:6.3f}  (target within 10 %)")
        ok &= abs(after - 1) <= 0.10
        print()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
