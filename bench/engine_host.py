"""What running an engine in its own process costs: hosted ÷ in-process, side by side.

The same llama.cpp engine, the SmolLM2 demo GGUF (a fixture-built Q8_0 GGUF when the demo
is not installed), in one run, interleaved and in alternating order per round:

- stream:  one answer of `--tokens` tokens (same seed both ways), timed where the caller
           receives it: TTFT = first text - call; tokens/s = (tokens - 1) / (last text -
           first text). Both engines are loaded for the whole section. Also 400 tokens
           of the tiny fixture GGUF (thousands of tokens/s: the transport's worst case).
- switch:  `ModelManager.switch` between the demo and a tiny Q8_0 GGUF, after one untimed
           round trip (runtime imported in-process; a warm spare host when hosted). Before
           each switch the spare host has finished starting, as it has when a user reads
           an answer before switching; back to back, a switch waits for it.
- memory:  in a fresh subprocess per mode, the process tree's RSS (the bench process and
           its children) before a load, and after an answer and an unload. In-process,
           llama_cpp is imported before the first reading, so only the model counts.

Targets (issues 6, 12): tokens/s ≥ 0.98 ×, TTFT + ≤ 5 ms, switch ≤ 1.05 ×, memory after unload ÷
before load ≤ 1.02.

    python bench/engine_host.py [--runs 5] [--tokens 128]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODES = ("in-process", "hosted")
PROMPT = "Tell me a long story about a lighthouse keeper and a storm."


def _specs(work: Path) -> tuple[Any, Any]:
    from backends.base import ModelSpec
    from backends.models.catalog import demo_spec
    from tests.fixtures.tiny_models import build_tiny_gguf

    tiny_path = build_tiny_gguf(work / "tiny-q8_0.gguf", quantization="Q8_0")
    tiny = ModelSpec(
        key=f"gguf:{tiny_path}", name="tiny Q8_0", engine="llama_cpp", path=str(tiny_path)
    )
    return demo_spec() or tiny, tiny


def _engine(mode: str) -> Any:
    from backends.registry import create_engine

    return create_engine("llama_cpp", hosted=mode == "hosted")


def _tree_rss(parts: dict[str, int] | None = None) -> int:
    import psutil

    me = psutil.Process()
    total = me.memory_info().rss
    if parts is not None:
        parts["self"] = int(total)
    for child in me.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            pass
    return int(total)


# -- stream -----------------------------------------------------------------------------------


def _one_answer(engine: Any, seed: int, tokens: int) -> dict[str, float]:
    from backends.base import ChatMessage, GenerationParams, StreamFinished, TextDelta

    params = GenerationParams(max_new_tokens=tokens, seed=seed, temperature=0.7)
    first = last = None
    count = 0
    start = time.perf_counter()
    for event in engine.stream([ChatMessage("user", PROMPT)], params):
        if isinstance(event, TextDelta) and event.text:
            last = time.perf_counter()
            first = first or last
        elif isinstance(event, StreamFinished):
            count = event.completion_tokens
    if first is None or last is None or count < 2 or last <= first:
        raise RuntimeError("the answer was too short to time")
    return {"ttft_s": first - start, "tok_s": (count - 1) / (last - first), "tokens": count}


def bench_stream(spec: Any, runs: int, tokens: int) -> dict[str, list[dict[str, float]]]:
    from backends.base import LoadOptions

    engines = {mode: _engine(mode) for mode in MODES}
    for engine in engines.values():
        engine.load(spec, LoadOptions(n_ctx=1024))
        _one_answer(engine, 0, 8)  # first-answer work (allocations, page-in) off the clock
    _settle_spare()  # the spare host a load starts imports its runtime: not during timing
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    try:
        for run in range(runs):
            order = MODES if run % 2 == 0 else MODES[::-1]
            for mode in order:
                results[mode].append(_one_answer(engines[mode], 1000 + run, tokens))
    finally:
        for engine in engines.values():
            engine.unload()
    return results


# -- switch -----------------------------------------------------------------------------------


def bench_switch(specs: tuple[Any, Any], runs: int, work: Path) -> dict[str, list[float]]:
    from backends.base import LoadOptions
    from backends.host.spawn import spawner
    from backends.models.manager import ModelManager
    from backends.settings import load_settings

    options = LoadOptions(n_ctx=1024)
    managers = {
        mode: ModelManager(
            load_settings(),
            recents_path=work / f"recent-{mode}.json",
            engine_factory=lambda _name, mode=mode: _engine(mode),
        )
        for mode in MODES
    }
    for manager in managers.values():  # untimed round trip: imports, warm spare
        for spec in specs:
            manager.switch(spec, options)
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    try:
        for run in range(runs):
            order = MODES if run % 2 == 0 else MODES[::-1]
            for spec in specs:
                for mode in order:
                    # A user reads an answer between switches: the spare host is ready.
                    spawner.wait_for_spare()
                    start = time.perf_counter()
                    managers[mode].switch(spec, options)
                    times[mode].append(time.perf_counter() - start)
    finally:
        for manager in managers.values():
            manager.unload()
    return times


# -- memory (one fresh subprocess per measurement) --------------------------------------------


def child_memory(mode: str, spec_json: str) -> dict[str, int]:
    from backends.base import LoadOptions, ModelSpec
    from backends.host.spawn import spawner

    spec = ModelSpec(**json.loads(spec_json))
    if mode == "hosted":
        spawner.prestart()
        _settle_spare()
    else:
        from backends.chat.llama_native import quiet_llama_cpp

        quiet_llama_cpp()
    engine = _engine(mode)  # the app has imported the engine's module before any load
    parts: dict[str, int] = {}
    before = _tree_rss(parts)
    engine.load(spec, LoadOptions(n_ctx=1024))
    _one_answer(engine, 1, 32)
    loaded = _tree_rss()
    engine.unload()
    _settle_spare()
    after_parts: dict[str, int] = {}
    after = _tree_rss(after_parts)
    return {"before": before, "loaded": loaded, "after": after,
            "self_before": parts["self"], "self_after": after_parts["self"]}  # fmt: skip


def _settle_spare() -> None:
    """Wait until the spare host (if any) has started and imported what it imports."""
    from backends.host.spawn import spawner

    spawner.wait_for_spare()
    time.sleep(0.5)  # a cold spare's own imports; RSS readings need them done


def bench_memory(spec: Any, runs: int, work: Path) -> dict[str, list[dict[str, int]]]:
    results: dict[str, list[dict[str, int]]] = {mode: [] for mode in MODES}
    env = {**os.environ, "LOCALAI_TUI_DATA_DIR": str(work / "data")}
    for run in range(runs):
        order = MODES if run % 2 == 0 else MODES[::-1]
        for mode in order:
            done = subprocess.run(
                [sys.executable, __file__, "--child-memory", mode, json.dumps(asdict(spec))],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                timeout=300,
            )
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-2000:])
            results[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


# -- report -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--child-memory", nargs=2, metavar=("MODE", "SPEC"))
    args = parser.parse_args()
    if args.child_memory:
        print(json.dumps(child_memory(*args.child_memory)))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-engine-host-"))
    os.environ["LOCALAI_TUI_DATA_DIR"] = str(work / "data")
    main_spec, tiny = _specs(work)
    print(f"model: {main_spec.name} ({main_spec.path}); {args.runs} runs, interleaved")
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the start")

    # The transport's cost shows most at thousands of tokens/s: the tiny fixture GGUF.
    tiny_stream = bench_stream(tiny, args.runs, 400)
    tiny_paired = statistics.median(
        h["tok_s"] / i["tok_s"]
        for h, i in zip(tiny_stream["hosted"], tiny_stream["in-process"], strict=True)
    )
    for mode in MODES:
        rate = statistics.median(r["tok_s"] for r in tiny_stream[mode])
        print(f"stream  {mode:10s} {rate:7.0f} tok/s  (tiny Q8_0 fixture, 400 tokens)")
    stream = bench_stream(main_spec, args.runs, args.tokens)
    med = {
        mode: {k: statistics.median(r[k] for r in stream[mode]) for k in ("tok_s", "ttft_s")}
        for mode in MODES
    }
    for mode in MODES:
        rates = ", ".join(f"{r['tok_s']:.1f}" for r in stream[mode])
        print(
            f"stream  {mode:10s} {med[mode]['tok_s']:7.1f} tok/s  "
            f"TTFT {med[mode]['ttft_s'] * 1000:6.1f} ms  (tok/s runs: {rates})"
        )
    tok_ratio = med["hosted"]["tok_s"] / med["in-process"]["tok_s"]
    ttft_diff = (med["hosted"]["ttft_s"] - med["in-process"]["ttft_s"]) * 1000
    # Paired per round: each hosted answer against the in-process one of the same round.
    paired = statistics.median(
        h["tok_s"] / i["tok_s"] for h, i in zip(stream["hosted"], stream["in-process"], strict=True)
    )

    switch = bench_switch((main_spec, tiny), args.runs, work)
    # Per direction: the two loads differ ~10x, so one median over both directions is the
    # midpoint between the slowest short switch and the fastest long one, not a switch.
    to_main = {mode: statistics.median(switch[mode][0::2]) for mode in MODES}
    to_tiny = {mode: statistics.median(switch[mode][1::2]) for mode in MODES}
    sw = {mode: to_main[mode] + to_tiny[mode] for mode in MODES}
    for mode in MODES:
        print(
            f"switch  {mode:10s} to {main_spec.name} {to_main[mode] * 1000:6.0f} ms, to "
            f"{tiny.name} {to_tiny[mode] * 1000:5.0f} ms (medians of {args.runs})"
        )

    memory = bench_memory(main_spec, max(1, args.runs // 2), work)
    ratios = {}
    for mode in MODES:
        rows = memory[mode]
        ratios[mode] = statistics.median(r["after"] / r["before"] for r in rows)
        r = rows[-1]
        print(
            f"memory  {mode:10s} before {r['before'] / 1e6:6.0f} MB  loaded "
            f"{r['loaded'] / 1e6:6.0f} MB  after unload {r['after'] / 1e6:6.0f} MB  "
            f"(after ÷ before, median {ratios[mode]:.3f}; this process "
            f"{r['self_before'] / 1e6:.0f} -> {r['self_after'] / 1e6:.0f} MB)"
        )

    print()
    print(f"tokens/s hosted ÷ in-process     {tok_ratio:.3f} (paired {paired:.3f}; target ≥ 0.98)")
    print(f"tokens/s tiny fixture, paired   {tiny_paired:.3f}")
    print(f"TTFT hosted - in-process         {ttft_diff:+.1f} ms (target ≤ 5 ms)")
    main_ratio = to_main["hosted"] / to_main["in-process"]
    tiny_ratio = to_tiny["hosted"] / to_tiny["in-process"]
    print(f"switch hosted ÷ in-process       {sw['hosted'] / sw['in-process']:.2f} (both ways; "
          f"to {main_spec.name} {main_ratio:.2f}, to {tiny.name} {tiny_ratio:.2f}; "
          "target ≤ 1.05)")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end: a shared 2-core machine")
    print(f"tree RSS after unload ÷ before   {ratios['hosted']:.3f} hosted (target ≤ 1.02), "
          f"{ratios['in-process']:.3f} in-process")  # fmt: skip


if __name__ == "__main__":
    main()
