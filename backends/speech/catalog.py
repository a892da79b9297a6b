"""Whisper models for faster-whisper: CTranslate2 folders in the HF cache or user folders.

A CTranslate2 Whisper folder holds model.bin, config.json (with Whisper's `suppress_ids`,
`lang_ids` or `alignment_heads`) and a vocabulary file. Recognised without importing
faster-whisper, so the model lists stay cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from backends.base import ModelSpec
from backends.speech.model_folders import folder_spec, scan_folders

SPEECH_ENGINE = "faster_whisper"
_WHISPER_KEYS = ("suppress_ids", "suppress_ids_begin", "lang_ids", "alignment_heads")


def looks_like_ct2_whisper(names: Iterable[str]) -> bool:
    """From file names alone (a cache listing): model.bin + config.json + a vocabulary."""
    names = set(names)
    return (
        "model.bin" in names
        and "config.json" in names
        and bool({"vocabulary.json", "vocabulary.txt"} & names)
    )


def is_ct2_whisper_dir(folder: Path) -> bool:
    """A folder faster-whisper can load (its config.json says Whisper, not a translator)."""
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:
        return False
    if not looks_like_ct2_whisper(names):
        return False
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and any(key in config for key in _WHISPER_KEYS)


def speech_spec(
    folder: Path, *, source: str = "path", repo_id: str | None = None, size: int | None = None
) -> ModelSpec:
    return folder_spec(
        folder, engine=SPEECH_ENGINE, key_prefix="whisper", source=source, repo_id=repo_id,
        size=size, weights="model.bin",
    )  # fmt: skip


def scan_speech_dirs(folders: Iterable[Path]) -> list[ModelSpec]:
    """Whisper folders under the user's model folders (a folder itself, or any below it)."""
    return scan_folders(
        folders, "model.bin", is_ct2_whisper_dir, lambda f: speech_spec(f, source="folder")
    )


def is_speech_spec(spec: ModelSpec) -> bool:
    return spec.engine == SPEECH_ENGINE
