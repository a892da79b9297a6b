"""Kokoro models for text to speech: folders in the HF cache or the user's model folders.

A Kokoro folder holds an ONNX export (`kokoro-v1.0.onnx`, `.int8.onnx`, ...) and a voices
file beside it (`voices-v1.0.bin`, an .npz of style vectors). Recognised from file names,
without importing onnxruntime, so model lists stay cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from backends.base import ModelSpec

log = logging.getLogger(__name__)

TTS_ENGINE = "kokoro"
KOKORO_HINT = (
    "Download Kokoro-82M for onnxruntime: the kokoro-onnx release files kokoro-v1.0.onnx (or "
    "kokoro-v1.0.int8.onnx) and voices-v1.0.bin from "
    "github.com/thewh1teagle/kokoro-onnx/releases, into a folder listed in model_dirs; or a "
    "Hub repo with both files (F3, task text-to-speech; onnx-community/Kokoro-82M-v1.0-ONNX "
    "keeps one file per voice, which kokoro-onnx cannot read). A server's voice works too: "
    'tts.model = "openai_tts:<server>/<model>".'
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
    resolved = folder.expanduser().absolute()
    if size is None:
        size = sum(p.stat().st_size for p in resolved.glob("*.onnx"))
    return ModelSpec(
        key=f"hf:{repo_id}" if repo_id else f"kokoro:{resolved}",
        name=repo_id or resolved.name,
        engine=TTS_ENGINE,
        path=str(resolved),
        repo_id=repo_id,
        size_bytes=size,
        source=source,  # type: ignore[arg-type]
    )


def scan_tts_dirs(folders: Iterable[Path]) -> list[ModelSpec]:
    """Kokoro folders under the user's model folders (a folder itself, or any below it)."""
    specs: list[ModelSpec] = []
    for folder in folders:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        try:
            candidates = [root, *sorted({p.parent for p in root.rglob("*.onnx")})]
        except OSError as exc:
            log.warning("could not list %s: %s", root, exc)
            continue
        seen: set[Path] = set()
        for candidate in candidates:
            if candidate not in seen and is_kokoro_dir(candidate):
                seen.add(candidate)
                specs.append(kokoro_spec(candidate, source="folder"))
    return specs


def is_tts_spec(spec: ModelSpec) -> bool:
    """A text-to-speech model of any engine (Kokoro here, a server's voice)."""
    from backends.registry import engine_kind

    return engine_kind(spec.engine) == "tts"
