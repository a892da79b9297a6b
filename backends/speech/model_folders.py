"""Speech model folders in the user's model folders: the scan and the spec every speech
catalog (Whisper, Kokoro, Pocket TTS) shares. What makes a folder a model stays in each
catalog, recognised from file names without importing a runtime, so model lists stay cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from backends.base import ModelSpec

log = logging.getLogger(__name__)


def folder_spec(
    folder: Path,
    *,
    engine: str,
    key_prefix: str,
    source: str = "path",
    repo_id: str | None = None,
    size: int | None = None,
    weights: str = "",
) -> ModelSpec:
    """A spec for a model folder; `weights` (a glob) sizes it when `size` is not known."""
    resolved = folder.expanduser().absolute()
    if size is None and weights:
        size = sum(p.stat().st_size for p in resolved.glob(weights) if p.is_file()) or None
    return ModelSpec(
        key=f"hf:{repo_id}" if repo_id else f"{key_prefix}:{resolved}",
        name=repo_id or resolved.name,
        engine=engine,
        path=str(resolved),
        repo_id=repo_id,
        size_bytes=size,
        source=source,  # type: ignore[arg-type]
    )


def scan_folders(
    folders: Iterable[Path],
    marker: str,
    is_model_dir: Callable[[Path], bool],
    spec_for: Callable[[Path], ModelSpec],
) -> list[ModelSpec]:
    """Model folders under the user's folders (a folder itself, or any below it holding a
    file that matches `marker`, e.g. "*.onnx"), each once."""
    specs: list[ModelSpec] = []
    for folder in folders:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        try:
            candidates = [root, *sorted({p.parent for p in root.rglob(marker)})]
        except OSError as exc:
            log.warning("could not list %s: %s", root, exc)
            continue
        seen: set[Path] = set()
        for candidate in candidates:
            if candidate not in seen and is_model_dir(candidate):
                seen.add(candidate)
                specs.append(spec_for(candidate))
    return specs
