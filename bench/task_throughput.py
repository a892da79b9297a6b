"""Tasks: items per second through the app's hosted task engine vs the bare `pipeline()`.

The same model, inputs, batch size and thread count on both sides: the bare side is
`pipeline(task=..., model=dir)` over the input list in this process (torch threads set);
the app side is the registry's hosted engine (`HostedTaskEngine`, the model in its own
process with the same threads) running the batch and yielding one event per item. Loading
is outside both timings; the two alternate `--runs` times and the medians are compared
(target >= 0.97).

Models: a text-classification BERT and an image-classification ViT with random weights,
built here from configs at a size where the model, not the call, costs (BERT: hidden 256,
4 layers; ViT: 224 px, hidden 192, 4 layers), or any local folder with --text-model /
--image-model.

    python bench/task_throughput.py [--items 256] [--batch 8] [--threads 1] [--runs 3]
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

SENTENCES = [
    "the game was great and the team won the match in the last minute",
    "this movie was terrible, i hated every minute of it",
    "john smith lives in paris and works for a company in berlin",
    "the river runs through the city from the capital to the sea",
]


def build_text_model(folder: Path) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from tests.fixtures.tiny_tasks import write_bert_tokenizer

    torch.manual_seed(0)
    write_bert_tokenizer(folder)
    config = BertConfig(vocab_size=200, hidden_size=256, num_hidden_layers=4,
                        num_attention_heads=4, intermediate_size=1024,
                        max_position_embeddings=128, id2label={0: "NEG", 1: "POS"},
                        label2id={"NEG": 0, "POS": 1})  # fmt: skip
    BertForSequenceClassification(config).eval().save_pretrained(folder)
    return folder


def build_image_model(folder: Path) -> Path:
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(0)
    config = ViTConfig(image_size=224, patch_size=16, hidden_size=192, num_hidden_layers=4,
                       num_attention_heads=3, intermediate_size=768,
                       id2label={0: "cat", 1: "dog"}, label2id={"cat": 0, "dog": 1})  # fmt: skip
    ViTForImageClassification(config).eval().save_pretrained(folder)
    ViTImageProcessor(size={"height": 224, "width": 224}).save_pretrained(folder)
    return folder


def time_bare(pipe: object, values: list[str], batch: int) -> float:
    started = time.perf_counter()
    outputs = pipe(values, batch_size=batch)  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    assert len(outputs) == len(values)
    return len(values) / elapsed


def time_app(engine: object, items: list[object], options: object) -> float:
    from backends.tasks.protocol import ItemDone

    started = time.perf_counter()
    done = sum(isinstance(e, ItemDone) for e in engine.run(items, options))  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    assert done == len(items), done
    return len(items) / elapsed


def compare(name: str, folder: Path, task: str, values: list[str], kind: str,
            args: argparse.Namespace) -> float:  # fmt: skip
    import torch
    from transformers import pipeline

    from backends.base import ModelSpec
    from backends.registry import create_task_engine
    from backends.tasks.protocol import TaskInput, TaskLoadOptions, TaskOptions

    torch.set_num_threads(args.threads)
    pipe = pipeline(task=task, model=str(folder), device="cpu")
    engine = create_task_engine("transformers_tasks")
    spec = ModelSpec(key=f"path:{folder}", name=name, engine="transformers_tasks", path=str(folder))
    engine.load(spec, TaskLoadOptions(task, device="cpu", threads=args.threads))
    items = [TaskInput(kind, v, v[:20]) for v in values]  # type: ignore[arg-type]
    options = TaskOptions(top_k=1, batch_size=args.batch)
    try:
        time_bare(pipe, values[: args.batch * 2], args.batch)  # warm both sides
        time_app(engine, items[: args.batch * 2], options)
        bare, app = [], []
        for _ in range(args.runs):
            bare.append(time_bare(pipe, values, args.batch))
            app.append(time_app(engine, items, options))
    finally:
        engine.unload()
    b, a = statistics.median(bare), statistics.median(app)
    print(
        f"{name}: {len(values)} items, batch {args.batch}, {args.threads} thread(s): "
        f"bare pipeline() {b:.1f} items/s, app (hosted) {a:.1f} items/s, ratio {a / b:.3f}"
    )
    return a / b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--text-model", type=Path)
    parser.add_argument("--image-model", type=Path)
    parser.add_argument("--no-image", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="localai-bench-tasks-"))
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["LOCALAI_TUI_DATA_DIR"] = str(work / "data")
    os.environ["LOCALAI_TUI_CONFIG"] = str(work / "config.toml")
    from backends.host.spawn import set_keep_spare

    set_keep_spare(False)
    text_dir = args.text_model or build_text_model(work / "text")
    texts = [SENTENCES[i % len(SENTENCES)] for i in range(args.items)]
    compare("text-classification", text_dir, "text-classification", texts, "text", args)
    if not args.no_image:
        from tests.fixtures.tiny_tasks import write_picture

        image_dir = args.image_model or build_image_model(work / "image")
        pictures = [str(write_picture(work / f"p{i}.png", (320, 240))) for i in range(8)]
        images = [pictures[i % len(pictures)] for i in range(max(args.items // 4, 16))]
        compare("image-classification", image_dir, "image-classification", images, "image",
                args)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
