"""Speech models are found in the HF cache and model folders, and never offered as chat models."""

from __future__ import annotations

import json
from pathlib import Path

from backends.models.catalog import discover_models, scan_hf_cache
from backends.settings import load_settings
from backends.speech.catalog import is_speech_spec
from backends.speech.manager import SpeechManager
from tests.backends.models.test_catalog import _fake_cache_repo

WHISPER_CONFIG = json.dumps({"suppress_ids": [], "lang_ids": [], "alignment_heads": []}).encode()
CT2_FILES = {
    "model.bin": b"x" * 100,
    "config.json": WHISPER_CONFIG,
    "vocabulary.json": b"[]",
    "tokenizer.json": b"{}",
}


def test_a_ct2_whisper_repo_in_the_cache_is_a_speech_model(tmp_path: Path) -> None:
    hf_home = tmp_path / "hf"
    snap = _fake_cache_repo(hf_home, "Systran/faster-whisper-tiny", CT2_FILES)

    specs = {s.key: s for s in scan_hf_cache(hf_home / "hub")}

    spec = specs["hf:Systran/faster-whisper-tiny"]
    assert spec.engine == "faster_whisper"  # not transformers, despite config.json + .bin
    assert spec.path == str(snap)


def test_whisper_folders_under_model_dirs_are_found(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "whisper-base"
    folder.mkdir(parents=True)
    for name, data in CT2_FILES.items():
        (folder / name).write_bytes(data)
    translator = tmp_path / "models" / "opus-mt"  # CTranslate2, but not Whisper
    translator.mkdir()
    for name in CT2_FILES:
        (translator / name).write_bytes(b"{}")

    settings = load_settings(model_dirs=[tmp_path / "models"])
    speech = [s for s in discover_models(settings) if is_speech_spec(s)]

    assert [s.name for s in speech] == ["whisper-base"]
    manager = SpeechManager(settings)
    assert manager.default_spec().path == str(folder)


def test_hub_and_disk_cache_name_faster_whisper_as_the_engine() -> None:
    from backends.hub.models import engine_for
    from backends.models.cache_inventory import engine_for_files

    tags = ["ctranslate2", "audio", "automatic-speech-recognition"]
    assert engine_for(tags, "ctranslate2", "automatic-speech-recognition") == "faster_whisper"
    assert engine_for(["transformers", "safetensors"], "transformers", None) == "transformers"
    assert engine_for_files(CT2_FILES) == "faster_whisper"


def test_a_whisper_kept_in_a_ct2_subfolder_is_named_after_what_holds_it(tmp_path: Path) -> None:
    """A repo or folder with the converted model in `ct2/` was listed as "ct2" (and, in the
    cache, pointed at the snapshot, where faster-whisper finds no model.bin)."""
    hf_home = tmp_path / "hf"
    files = {f"ct2/{name}": data for name, data in CT2_FILES.items()}
    snap = _fake_cache_repo(hf_home, "someone/whisper-tiny-en", files)
    folder = tmp_path / "models" / "whisper-small-en" / "ct2"
    folder.mkdir(parents=True)
    for name, data in CT2_FILES.items():
        (folder / name).write_bytes(data)

    cached = {s.key: s for s in scan_hf_cache(hf_home / "hub")}["hf:someone/whisper-tiny-en"]
    assert (cached.name, cached.path) == ("someone/whisper-tiny-en", str(snap / "ct2"))
    settings = load_settings(model_dirs=[tmp_path / "models"])
    speech = [s for s in discover_models(settings) if is_speech_spec(s)]
    assert [(s.name, s.path) for s in speech] == [("whisper-small-en", str(folder))]
    settings.speech.model = str(folder)  # a path given in the settings is named the same way
    assert SpeechManager(settings).default_spec().name == "whisper-small-en"
