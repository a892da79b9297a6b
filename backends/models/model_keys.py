"""Model keys that carry a path (`gguf:/abs/file.gguf`, `path:/abs/folder`…), read back.

Every key the app writes (ModelSpec.key: recents, `[models."…"]` settings, the picker's
details) is accepted by --model and default_model wherever the file is, not only under
model_dirs.
"""

from __future__ import annotations

from pathlib import Path

from backends.base import ModelSpec
from backends.errors import ModelNotFound


def transformers_folder_spec(folder: Path) -> ModelSpec:
    """A transformers model folder given by path (config.json inside)."""
    resolved = folder.absolute()
    return ModelSpec(
        key=f"path:{resolved}",
        name=resolved.name,
        engine="transformers",
        path=str(resolved),
        source="path",
    )


# The key prefixes that carry a path, as backends.models.catalog and the image and speech
# catalogs write them.
FILE_KEY_PREFIXES = ("gguf", "path", "whisper", "diffusers", "sdcpp")


def spec_from_file_key(key: str, prefix: str, path: Path) -> ModelSpec:
    """The spec `key` (with `prefix` and `path` split out) names; ModelNotFound if none."""
    if not path.exists():
        raise ModelNotFound(
            f"The model key {key!r} points at {path}, which is not there any more. Check "
            "the path, or pick the model with ctrl+o."
        )
    if prefix == "gguf" and path.is_file():
        from backends.models.gguf_spec import gguf_spec

        return gguf_spec(path)
    if prefix == "path" and (path / "config.json").is_file():
        return transformers_folder_spec(path)
    if prefix == "whisper" and path.is_dir():
        from backends.speech.catalog import speech_spec

        return speech_spec(path)
    if prefix in ("diffusers", "sdcpp"):
        from backends.image.catalog import diffusers_spec, single_file_spec

        if path.is_file():
            return single_file_spec(path, engine=prefix)
        if prefix == "diffusers":
            return diffusers_spec(path)
    raise ModelNotFound(
        f"The model key {key!r} points at {path}, which is not a model of that kind. "
        "Pick the model with ctrl+o."
    )
