"""The task engine over the real `pipeline()`: the same numbers as the bare pipeline, in a
host and in-process; cancel between items; refusals that say what to do."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from pathlib import Path

import pytest

from backends.errors import UnsupportedModel
from backends.registry import create_task_engine
from backends.tasks.pipeline_outputs import to_result
from backends.tasks.protocol import (
    BatchFinished,
    BatchStarted,
    ItemDone,
    ItemFailed,
    TaskInput,
    TaskLoadOptions,
    TaskOptions,
)
from backends.tasks.task_inputs import WrongInput
from tests.fixtures.tasks import task_spec

pytestmark = pytest.mark.slow
CPU = {"device": "cpu", "threads": 1}


def text(value: str) -> TaskInput:
    return TaskInput("text", value, value[:20])


CASES = [
    ("sentiment", "text-classification", [text("I loved this movie"), text("bad day")],
     TaskOptions(top_k=2), {"top_k": 2}),
    ("ner", "token-classification", [text("John Smith lives in Paris")],
     TaskOptions(aggregation_strategy="simple"), {"aggregation_strategy": "simple"}),
    ("mask", "fill-mask", [text("Paris is the [MASK] of France")],
     TaskOptions(top_k=3), {"top_k": 3}),
    ("nli", "zero-shot-classification", [text("I love music")],
     TaskOptions(candidate_labels=("music", "sports", "film"), multi_label=True),
     {"candidate_labels": ["music", "sports", "film"], "multi_label": True}),
    ("sentiment", "feature-extraction", [text("hello world"), text("the river")],
     TaskOptions(), {}),
]  # fmt: skip


def bare(folder: Path, task: str, values: list[str], kwargs: dict[str, object]) -> list[object]:
    from transformers import pipeline

    pipe = pipeline(task=task, model=str(folder))
    return [to_result(task, pipe(value, **kwargs)) for value in values]


def rounded(value: object) -> object:
    """Results with floats to 5 places: a host on 1 thread and the bare pipeline on 2 differ
    in float32's last digit."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return rounded(dataclasses.astuple(value))
    if isinstance(value, (tuple, list)):
        return tuple(rounded(v) for v in value)
    return round(value, 5) if isinstance(value, float) else value


def run(engine: object, items: list[TaskInput], options: TaskOptions) -> list[object]:
    return list(engine.run(items, options))  # type: ignore[attr-defined]


def test_hosted_results_equal_the_bare_pipeline(
    task_models: dict[str, Path], task_picture: Path
) -> None:
    engine = create_task_engine("transformers_tasks")
    assert type(engine).__name__ == "HostedTaskEngine"
    picture = TaskInput("image", str(task_picture), "picture.png")
    cases = [
        *CASES,
        ("vit", "image-classification", [picture], TaskOptions(top_k=3), {"top_k": 3}),
        ("yolos", "object-detection", [picture], TaskOptions(threshold=0.0), {"threshold": 0.0}),
    ]
    try:
        for key, task, items, options, kwargs in cases:
            engine.load(task_spec(task_models[key]), TaskLoadOptions(task=task, **CPU))
            assert engine.model_info().task == task
            events = run(engine, items, options)
            assert isinstance(events[0], BatchStarted) and events[0].total == len(items)
            assert isinstance(events[-1], BatchFinished) and events[-1].reason == "done"
            results = [e.result for e in events if isinstance(e, ItemDone)]
            expected = bare(task_models[key], task, [i.value for i in items], kwargs)
            assert rounded(results) == rounded(expected), task
        assert engine.memory_footprint().ram_bytes > 0
    finally:
        engine.unload()
    assert not engine.loaded and not engine.host.alive  # type: ignore[attr-defined]


def test_cancel_stops_between_items(task_models: dict[str, Path]) -> None:
    engine = create_task_engine("transformers_tasks", hosted=False)
    engine.load(task_spec(task_models["sentiment"]), TaskLoadOptions("text-classification", **CPU))
    cancel = threading.Event()
    seen = []
    for event in engine.run([text(f"item {i}") for i in range(20)], TaskOptions(), cancel):
        seen.append(event)
        if isinstance(event, ItemDone):
            cancel.set()
    assert [type(e) for e in seen] == [BatchStarted, ItemDone, BatchFinished]
    assert seen[-1].reason == "cancelled" and seen[-1].done == 1  # type: ignore[union-attr]


def test_hosted_cancel_ends_the_batch(task_models: dict[str, Path]) -> None:
    engine = create_task_engine("transformers_tasks")
    engine.load(task_spec(task_models["sentiment"]), TaskLoadOptions("text-classification", **CPU))
    try:
        cancel = threading.Event()
        seen = []
        for event in engine.run([text(f"item {i}") for i in range(200)], TaskOptions(), cancel):
            seen.append(event)
            if isinstance(event, ItemDone):
                cancel.set()
        finished = seen[-1]
        assert isinstance(finished, BatchFinished) and finished.reason == "cancelled"
        # Items the host finished before the cancel reached it still come (done work, kept
        # and counted), in order; the run stops there.
        done = [e.index for e in seen if isinstance(e, ItemDone)]
        assert done == list(range(len(done))) and 1 <= len(done) < 200
        assert finished.done == len(done)
        after = run(engine, [text("still works")], TaskOptions())  # the engine goes on
        assert isinstance(after[-1], BatchFinished) and after[-1].done == 1
    finally:
        engine.unload()


def test_wrong_inputs_fail_alone_and_say_why(
    task_models: dict[str, Path], task_picture: Path
) -> None:
    engine = create_task_engine("transformers_tasks", hosted=False)
    engine.load(task_spec(task_models["mask"]), TaskLoadOptions("fill-mask", **CPU))
    items = [
        TaskInput("image", str(task_picture), "picture.png"),
        text("no mask here"),
        text("the [MASK] of france"),
    ]
    events = run(engine, items, TaskOptions(top_k=2))
    failed = [e for e in events if isinstance(e, ItemFailed)]
    assert [e.index for e in failed] == [0, 1]
    assert "takes text; picture.png is an image" in failed[0].message
    assert "Put the mask token [MASK] exactly once" in failed[1].message
    done = [e for e in events if isinstance(e, ItemDone)]
    assert [e.index for e in done] == [2]
    assert events[-1] == BatchFinished("done", 1, 2, events[-1].elapsed_s)  # type: ignore[union-attr]


def test_too_long_text_is_cut_and_said(task_models: dict[str, Path]) -> None:
    engine = create_task_engine("transformers_tasks", hosted=False)
    engine.load(task_spec(task_models["sentiment"]), TaskLoadOptions("text-classification", **CPU))
    assert engine.model_info().max_tokens == 64
    long = " ".join(["the river city"] * 60)
    events = run(engine, [text(long)], TaskOptions(top_k=2))
    done = next(e for e in events if isinstance(e, ItemDone))
    assert done.truncated_to == 62  # 64 less [CLS] and [SEP]
    assert done.text is not None and long.startswith(done.text) and len(done.text) < len(long)
    expected = bare(task_models["sentiment"], "text-classification", [done.text], {"top_k": 2})
    assert rounded(done.result) == rounded(expected[0])


def test_zero_shot_refuses_an_empty_label_list(task_models: dict[str, Path]) -> None:
    engine = create_task_engine("transformers_tasks", hosted=False)
    engine.load(task_spec(task_models["nli"]), TaskLoadOptions("zero-shot-classification", **CPU))
    with pytest.raises(WrongInput, match="needs labels to choose from"):
        run(engine, [text("I love music")], TaskOptions(candidate_labels=()))


def test_load_refusals_say_what_to_do(task_models: dict[str, Path], tmp_path: Path) -> None:
    engine = create_task_engine("transformers_tasks", hosted=False)
    spec = task_spec(task_models["sentiment"])
    with pytest.raises(UnsupportedModel, match="It runs: text-classification, token-class"):
        engine.load(spec, TaskLoadOptions("depth-estimation", **CPU))
    with pytest.raises(UnsupportedModel, match="no 'entailment' label"):
        engine.load(spec, TaskLoadOptions("zero-shot-classification", **CPU))
    custom = tmp_path / "custom"
    shutil.copytree(task_models["sentiment"], custom)
    config = json.loads((custom / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_custom.CustomModel"}
    (custom / "config.json").write_text(json.dumps(config))
    with pytest.raises(UnsupportedModel, match="trust_remote_code") as caught:
        engine.load(task_spec(custom), TaskLoadOptions("text-classification", **CPU))
    assert caught.value.title == "Custom code"
    assert not engine.loaded


def test_audio_classification_reads_and_resamples_a_wav(
    task_models: dict[str, Path], tmp_path: Path
) -> None:
    from backends.tasks.wav_audio import read_audio
    from tests.fixtures.tiny_tasks import write_tone_wav

    wav = write_tone_wav(tmp_path / "tone.wav", rate=8000)
    samples = read_audio(wav, 16000)
    assert len(samples) == 8000  # 0.5 s at 16 kHz
    engine = create_task_engine("transformers_tasks", hosted=False)
    engine.load(task_spec(task_models["audio"]), TaskLoadOptions("audio-classification", **CPU))
    events = run(engine, [TaskInput("audio", str(wav), "tone.wav")], TaskOptions(top_k=3))
    done = next(e for e in events if isinstance(e, ItemDone))
    expected = bare(task_models["audio"], "audio-classification",
                    [{"raw": samples, "sampling_rate": 16000}], {"top_k": 3})  # fmt: skip
    assert rounded(done.result) == rounded(expected[0])
    not_audio = run(engine, [text("hello")], TaskOptions())
    assert (
        "takes audio; the typed text is text"
        in next(e for e in not_audio if isinstance(e, ItemFailed)).message
    )


def test_local_embeddings_speak_the_embedding_protocol(task_models: dict[str, Path]) -> None:
    from backends.embeddings.protocol import EmbeddingEngine
    from backends.registry import create_embedding_engine

    engine = create_embedding_engine("transformers_embeddings")
    assert isinstance(engine, EmbeddingEngine)
    engine.load(task_spec(task_models["sentiment"]))
    try:
        texts = ["the river city", "i love music"]
        embeddings = engine.embed(texts)
    finally:
        engine.unload()
    assert embeddings.dimensions == 32 and len(embeddings.vectors) == 2
    expected = bare(task_models["sentiment"], "feature-extraction", texts, {})  # mean-pooled
    assert rounded(embeddings.vectors) == rounded(tuple(e.vector for e in expected))  # type: ignore[attr-defined]


def test_warm_up_imports_the_pipelines_for_a_spare_host() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from backends.tasks.transformers_tasks import TransformersTaskEngine\n"
        "TransformersTaskEngine.warm_up()\n"
        "print('transformers.pipelines' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.stdout.strip().endswith("True"), done.stderr
