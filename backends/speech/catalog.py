"""Whisper models for faster-whisper: CTranslate2 folders in the HF cache or user folders.

A CTranslate2 Whisper folder holds model.bin, config.json (with Whisper's `suppress_ids`,
`lang_ids` or `alignment_heads`) and a vocabulary file. Recognised without importing
faster-whisper, so the model lists stay cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from backends.base import ModelSpec
from backends.speech.model_folders import folder_spec, scan_folders

SPEECH_ENGINE = "faster_whisper"
_WHISPER_KEYS = ("suppress_ids", "suppress_ids_begin", "lang_ids", "alignment_heads")
# Names a converted model's folder gets inside the repo or folder that is the model.
_CONVERTED_FOLDERS = frozenset({"ct2", "ctranslate2"})


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
    """The spec of the Whisper in `folder`, or in its converted subfolder (`ct2/`)."""
    folder = _model_bin_folder(folder)
    spec = folder_spec(
        folder, engine=SPEECH_ENGINE, key_prefix="whisper", source=source, repo_id=repo_id,
        size=size, weights="model.bin",
    )  # fmt: skip
    if repo_id is None and folder.name.lower() in _CONVERTED_FOLDERS:
        # "ct2" in a picker says nothing: the folder that holds it is the model's name.
        return replace(spec, name=Path(spec.path or folder).parent.name)
    return spec


def _model_bin_folder(folder: Path) -> Path:
    """`folder`, or its one subfolder holding model.bin: repos that publish the original
    weights beside a CTranslate2 conversion keep the conversion in `ct2/`."""
    if (folder / "model.bin").exists():
        return folder
    try:
        inner = sorted(p for p in folder.iterdir() if (p / "model.bin").is_file())
    except OSError:
        return folder
    return inner[0] if len(inner) == 1 else folder


def scan_speech_dirs(folders: Iterable[Path]) -> list[ModelSpec]:
    """Whisper folders under the user's model folders (a folder itself, or any below it)."""
    return scan_folders(
        folders, "model.bin", is_ct2_whisper_dir, lambda f: speech_spec(f, source="folder")
    )


def is_speech_spec(spec: ModelSpec) -> bool:
    return spec.engine == SPEECH_ENGINE
