"""The disk cache's "Last used" counts every kind of local model the app loads, not only chat
models: an image pipeline and a Whisper folder loaded a minute ago showed "—"."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.image.session import ImageModelSession
from backends.models.cache_inventory import scan_inventory
from backends.settings import load_settings
from backends.speech.manager import SpeechManager
from tests.fixtures.scripted_image_engine import (
    SCRIPTED_SPEC,
    scripted_image_engine,  # noqa: F401 (the fixture)
)


def _last_used(models: Path, name: str) -> float | None:
    inventory = scan_inventory(models / "no-hf-cache", model_dirs=[models])
    (item,) = [i for i in inventory.items if i.path.name == name]
    return item.last_used


@pytest.mark.usefixtures("scripted_image_engine")
def test_an_image_model_load_shows_in_the_disk_cache(tmp_path: Path) -> None:
    pipeline = tmp_path / "models" / "my-pipeline"
    pipeline.mkdir(parents=True)
    (pipeline / "model_index.json").write_text("{}")
    assert _last_used(tmp_path / "models", "my-pipeline") is None
    session = ImageModelSession(load_settings())
    session.load(replace(SCRIPTED_SPEC, path=str(pipeline)))
    assert _last_used(tmp_path / "models", "my-pipeline") is not None
    session.unload()


def test_a_speech_model_load_shows_in_the_disk_cache(
    tiny_whisper_dir: Path, tiny_whisper_spec: ModelSpec, tmp_path: Path
) -> None:
    from backends.registry import create_speech_engine

    models = tmp_path / "models"
    shutil.copytree(tiny_whisper_dir, models / "whisper")
    folder = Path(tiny_whisper_spec.path or "").relative_to(tiny_whisper_dir)
    spec = replace(tiny_whisper_spec, path=str(models / "whisper" / folder))
    assert _last_used(models, Path(spec.path or "").name) is None
    manager = SpeechManager(
        load_settings(), engine_factory=lambda name: create_speech_engine(name, hosted=False)
    )
    manager.load(spec)
    assert _last_used(models, Path(spec.path or "").name) is not None
    manager.unload()


def test_a_kokoro_folder_in_model_dirs_is_on_the_disk_cache_screen(
    tiny_kokoro_dir: Path, tmp_path: Path
) -> None:
    """F4 promised every model on disk; a Kokoro voice in model_dirs was missing."""
    models = tmp_path / "models"
    shutil.copytree(tiny_kokoro_dir, models / "my-kokoro")
    inventory = scan_inventory(models / "no-hf-cache", model_dirs=[models])
    (item,) = [i for i in inventory.items if i.path.name == "my-kokoro"]
    assert item.kind_label == "TTS" and item.size_bytes > 0
    assert item.key == f"kokoro:{models / 'my-kokoro'}"
