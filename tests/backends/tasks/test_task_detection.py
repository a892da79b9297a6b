"""The task of a model on disk: the saved Hub tag, the README's, then the architecture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backends.tasks.task_detection import (
    architecture_task,
    detect_task,
    remember_task,
    saved_tasks,
)
from backends.tasks.task_inputs import WrongInput, parse_labels, read_batch_file


def write_config(folder: Path, **config: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(
    ("architecture", "labels", "task"),
    [
        ("BertForTokenClassification", {}, "token-classification"),
        ("DistilBertForSequenceClassification", {"NEG": 0}, "text-classification"),
        ("RobertaForSequenceClassification", {"ENTAILMENT": 0}, "zero-shot-classification"),
        ("BertForMaskedLM", {}, "fill-mask"),
        ("ViTForImageClassification", {}, "image-classification"),
        ("DetrForObjectDetection", {}, "object-detection"),
        ("Wav2Vec2ForCTC", {}, "automatic-speech-recognition"),
        ("WhisperForConditionalGeneration", {}, "automatic-speech-recognition"),
        ("LlamaForCausalLM", {}, None),
    ],
)
def test_architecture_says_the_task(architecture: str, labels: dict, task: str | None) -> None:
    assert architecture_task({"architectures": [architecture], "label2id": labels}) == task


def test_saved_tag_then_readme_then_architecture(tmp_path: Path) -> None:
    folder = write_config(tmp_path / "m", architectures=["BertForSequenceClassification"])
    assert detect_task(folder, "me/m", data_dir=tmp_path).source == "architecture"
    (folder / "README.md").write_text("---\nlicense: mit\npipeline_tag: sentiment-analysis\n---\n")
    guess = detect_task(folder, "me/m", data_dir=tmp_path)
    assert (guess.task, guess.source) == ("text-classification", "readme")
    remember_task("me/m", "token-classification", data_dir=tmp_path)
    assert saved_tasks(tmp_path) == {"me/m": "token-classification"}
    guess = detect_task(folder, "me/m", data_dir=tmp_path)
    assert (guess.task, guess.source) == ("token-classification", "download")
    bare = write_config(tmp_path / "b", architectures=["Mystery"])
    assert detect_task(bare, None, data_dir=tmp_path).task is None


def test_batch_file_and_labels(tmp_path: Path) -> None:
    batch = tmp_path / "batch.txt"
    batch.write_text("first line\n\n  second line  \n")
    assert [i.value for i in read_batch_file(batch, "text")] == ["first line", "second line"]
    batch.write_text("a.png\n/abs/b.wav\n")
    items = read_batch_file(batch, "image")
    assert [(i.kind, i.value) for i in items] == [
        ("image", str(tmp_path / "a.png")),
        ("audio", "/abs/b.wav"),
    ]
    assert parse_labels(" sports, music,,sports ") == ("sports", "music")
    with pytest.raises(WrongInput, match="needs labels"):
        parse_labels(" , ")


def test_cache_inventory_shows_a_task_models_task(tmp_path: Path) -> None:
    from backends.models.cache_inventory import scan_inventory
    from tests.backends.models.test_catalog import _fake_cache_repo

    config = json.dumps({"architectures": ["ViTForImageClassification"]}).encode()
    _fake_cache_repo(tmp_path / "hf", "org/vit", {"config.json": config, "model.safetensors": b"x"})
    chat = json.dumps({"architectures": ["LlamaForCausalLM"]}).encode()
    _fake_cache_repo(tmp_path / "hf", "org/chat", {"config.json": chat, "model.safetensors": b"x"})
    items = {i.name: i for i in scan_inventory(tmp_path / "hf" / "hub", usage={}).items}
    assert items["org/vit"].task == "image-classification"
    assert items["org/chat"].task is None and items["org/chat"].engine == "transformers"
