"""A1111's short hashes of checkpoints and LoRAs, so civitai and A1111 link our PNGs.

A1111 writes `Model hash: <first 10 hex of the file's sha256>` and
`Lora hashes: "name: <first 12 hex>"`. Hashing a 6 GB checkpoint takes seconds, so each
file's sha256 is kept in `file_hashes.json` in the data dir, keyed by path, size and mtime
(as A1111 keeps its cache.json): a file is read once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path

from backends.base import ModelSpec

log = logging.getLogger(__name__)

HASHES_FILE = "file_hashes.json"
MODEL_HASH_LENGTH = 10
LORA_HASH_LENGTH = 12
_CHUNK = 1 << 20
_lock = threading.Lock()


def _cache_path() -> Path:
    from backends.paths import data_dir

    return data_dir() / HASHES_FILE


def _read_cache(path: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def file_sha256(path: Path) -> str:
    """The sha256 of a file (hex), from the cache when its size and mtime are unchanged."""
    path = path.expanduser().resolve()
    stat = path.stat()
    key, stamp = str(path), {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    cache_file = _cache_path()
    with _lock:
        entry = _read_cache(cache_file).get(key)
    if isinstance(entry, dict) and all(entry.get(k) == v for k, v in stamp.items()):
        cached = entry.get("sha256")
        if isinstance(cached, str):
            return cached
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    with _lock:
        cache = _read_cache(cache_file)
        cache[key] = {**stamp, "sha256": value}
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            partial = cache_file.with_suffix(".tmp")
            partial.write_text(json.dumps(cache, indent=1))
            partial.replace(cache_file)
        except OSError as exc:
            log.warning("could not keep file hashes in %s: %s", cache_file, exc)
    return value


def weights_file(spec: ModelSpec) -> Path | None:
    """The file A1111 would hash for this model: the checkpoint itself (a .safetensors,
    .ckpt or .gguf), or for a diffusers folder its denoiser's weights (unet/ or
    transformer/). None when there is no such file here."""
    if not spec.path:
        return None
    path = Path(spec.path).expanduser()
    if path.is_file():
        return path
    for part in ("unet", "transformer"):
        files = sorted((path / part).glob("diffusion_pytorch_model*.safetensors"))
        if files:
            return files[0]
    return None


def short_hash(path: Path, length: int) -> str | None:
    """The first `length` hex digits of the file's sha256; None when it cannot be read."""
    try:
        return file_sha256(path)[:length]
    except OSError as exc:
        log.info("no hash for %s: %s", path, exc)
        return None


def model_hash(spec: ModelSpec) -> str | None:
    """A1111's `Model hash` for this model, or None."""
    path = weights_file(spec)
    return short_hash(path, MODEL_HASH_LENGTH) if path is not None else None


def lora_hash(path: str) -> str | None:
    """A1111's hash of a LoRA file for `Lora hashes`, or None."""
    return short_hash(Path(path).expanduser(), LORA_HASH_LENGTH)
