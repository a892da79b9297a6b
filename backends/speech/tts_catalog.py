"""Text-to-speech models: Kokoro and Pocket TTS folders in the HF cache or the user's folders.

A Kokoro folder holds an ONNX export (`kokoro-v1.0.onnx`, `.int8.onnx`, ...) and a voices
file beside it (`voices-v1.0.bin`, an .npz of style vectors). A Pocket TTS folder holds a
pocket-tts YAML config with its weights and tokenizer, or is a snapshot of Kyutai's repos
(see `pocket_tts_model`). Recognised from file names, without importing onnxruntime or
torch, so model lists stay cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from backends.base import ModelSpec
from backends.speech.model_folders import folder_spec, scan_folders

TTS_ENGINE = "kokoro"
POCKET_ENGINE = "pocket_tts"
POCKET_REPO_PREFIX = "kyutai/pocket-tts"
KOKORO_HINT = (
    "Download Kokoro-82M for onnxruntime: the kokoro-onnx release files kokoro-v1.0.onnx (or "
    "kokoro-v1.0.int8.onnx) and voices-v1.0.bin from "
    "github.com/thewh1teagle/kokoro-onnx/releases, into a folder listed in model_dirs; or a "
    "Hub repo with both files (F3, task text-to-speech; onnx-community/Kokoro-82M-v1.0-ONNX "
    "keeps one file per voice, which kokoro-onnx cannot read). A server's voice works too: "
    'tts.model = "openai_tts:<server>/<model>". Or Pocket TTS (pip install '
    "'localai-tui[pocket]'): kyutai/pocket-tts-without-voice-cloning from the Hub."
)


def looks_like_kokoro(names: Iterable[str]) -> bool:
    """An .onnx model and a voices file (.bin or .npz named for voices) among the names."""
    names = [Path(n).name.lower() for n in names]
    return any(n.endswith(".onnx") for n in names) and any(
        "voice" in n and n.endswith((".bin", ".npz")) for n in names
    )


def is_kokoro_dir(folder: Path) -> bool:
    try:
        return looks_like_kokoro(p.name for p in folder.iterdir() if p.is_file())
    except OSError:
        return False


def kokoro_spec(
    folder: Path, *, source: str = "path", repo_id: str | None = None, size: int | None = None
) -> ModelSpec:
    return folder_spec(
        folder, engine=TTS_ENGINE, key_prefix="kokoro", source=source, repo_id=repo_id,
        size=size, weights="*.onnx",
    )  # fmt: skip


def looks_like_pocket_tts(names: Iterable[str], repo_id: str | None = None) -> bool:
    """Kyutai's Pocket TTS repos, or a pocket-tts YAML config beside its weights and
    tokenizer (names of files, so a cache listing will do)."""
    if repo_id is not None and repo_id.lower().startswith(POCKET_REPO_PREFIX):
        return True
    names = {Path(n).name.lower() for n in names}
    return (
        any(n.endswith((".yaml", ".yml")) for n in names)
        and "tokenizer.json" in names
        and any(n.endswith(".safetensors") for n in names)
    )


def is_pocket_dir(folder: Path) -> bool:
    """A folder with a pocket-tts config (flow_lm and mimi sections), or a snapshot of
    Kyutai's repos (languages/<language>/model.safetensors)."""
    from backends.speech.pocket_tts_model import find_config

    try:
        return find_config(folder) is not None or any(folder.glob("languages/*/model.safetensors"))
    except OSError:
        return False


def pocket_spec(
    folder: Path, *, source: str = "path", repo_id: str | None = None, size: int | None = None
) -> ModelSpec:
    return folder_spec(
        folder, engine=POCKET_ENGINE, key_prefix="pocket", source=source, repo_id=repo_id,
        size=size, weights="**/*.safetensors",
    )  # fmt: skip


def tts_folder_spec(folder: Path) -> ModelSpec | None:
    """A spec for a Kokoro or Pocket TTS folder, None when it is neither."""
    if is_kokoro_dir(folder):
        return kokoro_spec(folder)
    if is_pocket_dir(folder):
        return pocket_spec(folder)
    return None


def scan_tts_dirs(folders: Iterable[Path]) -> list[ModelSpec]:
    """Kokoro and Pocket TTS folders under the user's model folders."""
    folders = list(folders)
    return [
        *scan_folders(folders, "*.onnx", is_kokoro_dir, lambda f: kokoro_spec(f, source="folder")),
        *scan_folders(folders, "*.yaml", is_pocket_dir, lambda f: pocket_spec(f, source="folder")),
    ]


def is_tts_spec(spec: ModelSpec) -> bool:
    """A text-to-speech model of any engine (Kokoro here, a server's voice)."""
    from backends.registry import engine_kind

    return engine_kind(spec.engine) == "tts"
