"""Summarisation: items per second through the app's hosted task engine vs the bare model.

transformers 5 has no summarization pipeline, so the bare side is what a user would write:
`AutoModelForSeq2SeqLM.generate` on each text (prefix added, greedy, the same
`max_new_tokens`) in this process with torch's threads set; the app side is the registry's
hosted engine (`Seq2SeqRunner` in its own process, the same threads) yielding one event
per item. Every generation writes exactly `--tokens` tokens on both sides (min = max), so
the work is equal. Loading is outside both timings; the two alternate `--runs` times and
the medians are compared (target >= 0.97). `--batch N` adds the app with N texts per
padded `generate` (what the Tasks screen does for a batch file), side by side.

The model is a T5 with random weights built here at a size where the model, not the
call, costs (d_model 256, 4+4 layers), with the tests' Unigram tokenizer; or any local
seq2seq folder with --model.

    python bench/model_task_throughput.py [--items 16] [--tokens 24] [--threads 1] [--runs 3]
                                          [--batch 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.task_throughput import SENTENCES  # noqa: E402


def build_t5(folder: Path, tokens: int) -> Path:
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    from tests.fixtures.tiny_generative_tasks import _unigram_tokenizer

    tokenizer = _unigram_tokenizer()
    torch.manual_seed(0)
    prefix = {"summarization": {"prefix": "summarize: "}}
    config = T5Config(vocab_size=len(tokenizer), d_model=256, d_kv=32, d_ff=1024,  # type: ignore[arg-type]
                      num_layers=4, num_decoder_layers=4, num_heads=8, decoder_start_token_id=0,
                      pad_token_id=0, eos_token_id=1, task_specific_params=prefix)  # fmt: skip
    model = T5ForConditionalGeneration(config).eval()
    model.generation_config.min_new_tokens = tokens
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)  # type: ignore[attr-defined]
    return folder


def time_bare(model: object, tokenizer: object, values: list[str], tokens: int) -> float:
    import torch

    started = time.perf_counter()
    for value in values:
        encoded = tokenizer("summarize: " + value, return_tensors="pt", truncation=True)  # type: ignore[operator]
        with torch.inference_mode():
            out = model.generate(**encoded, max_new_tokens=tokens, min_new_tokens=tokens)  # type: ignore[attr-defined]
        tokenizer.decode(out[0], skip_special_tokens=True)  # type: ignore[attr-defined]
    return len(values) / (time.perf_counter() - started)


def time_app(engine: object, items: list[object], options: object) -> float:
    from backends.tasks.protocol import ItemDone

    started = time.perf_counter()
    done = sum(isinstance(e, ItemDone) for e in engine.run(items, options))  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    assert done == len(items), done
    return len(items) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--batch", type=int, default=0, help="also time N texts per generate")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="localai-bench-model-tasks-"))
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["LOCALAI_TUI_DATA_DIR"] = str(work / "data")
    os.environ["LOCALAI_TUI_CONFIG"] = str(work / "config.toml")
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from backends.base import ModelSpec
    from backends.host.spawn import set_keep_spare
    from backends.registry import create_task_engine
    from backends.tasks.protocol import TaskInput, TaskLoadOptions, TaskOptions

    set_keep_spare(False)
    folder = args.model or build_t5(work / "t5", args.tokens)
    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(folder)).eval()
    engine = create_task_engine("transformers_tasks")
    spec = ModelSpec(key=f"path:{folder}", name="t5", engine="transformers_tasks", path=str(folder))
    engine.load(spec, TaskLoadOptions("summarization", device="cpu", threads=args.threads))
    values = [SENTENCES[i % len(SENTENCES)] for i in range(args.items)]
    items = [TaskInput("text", v, v[:20]) for v in values]
    options = TaskOptions(max_new_tokens=args.tokens)
    try:
        time_bare(model, tokenizer, values[:2], args.tokens)  # warm both sides
        time_app(engine, items[:2], options)
        batched_options = TaskOptions(max_new_tokens=args.tokens, batch_size=args.batch)
        if args.batch:
            time_app(engine, items[:2], batched_options)
        bare, app, batched = [], [], []
        for _ in range(args.runs):
            bare.append(time_bare(model, tokenizer, values, args.tokens))
            app.append(time_app(engine, items, options))
            if args.batch:
                batched.append(time_app(engine, items, batched_options))
    finally:
        engine.unload()
    b, a = statistics.median(bare), statistics.median(app)
    print(
        f"summarization: {len(values)} items x {args.tokens} tokens, {args.threads} thread(s): "
        f"bare generate() {b:.2f} items/s, app (hosted) {a:.2f} items/s, ratio {a / b:.3f}"
    )
    if batched:
        n = statistics.median(batched)
        print(
            f"app batch {args.batch}: {n:.2f} items/s, {n / a:.2f}x the app one at a time, "
            f"{n / b:.2f}x bare generate() one at a time (medians of {args.runs} runs)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
