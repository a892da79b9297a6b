"""A small GGUF header reader: checks a file before llama.cpp sees it.

llama.cpp's own load errors are terse ("Failed to load model from file"), so the engine
reads the header itself and raises a `BackendError` that says what is wrong: missing,
empty, not a GGUF, an unknown format version, damaged metadata, or cut short (a partial
download). Pure Python (mmap + struct); the `gguf` package is only a dev dependency.

Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.errors import CorruptModel, ModelNotFound, UnsupportedModel

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32

# Metadata value types: id -> struct format for the scalar ones.
_SCALARS: dict[int, str] = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
    10: "<Q", 11: "<q", 12: "<d",
}  # fmt: skip
_STRING, _ARRAY = 8, 9

# ggml tensor types: id -> (elements per block, bytes per block).
GGML_TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 40), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136),
    24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56),
    30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18),
}  # fmt: skip

# general.file_type (llama_ftype) -> the quant name users know.
FILE_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
    38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0",
}  # fmt: skip

# Arrays longer than this (token lists, merges) are skipped, not kept.
_MAX_KEPT_ARRAY = 64


@dataclass(frozen=True)
class GGUFInfo:
    """What the engine needs to know about a GGUF file."""

    path: Path
    version: int
    size_bytes: int
    tensor_count: int
    metadata: dict[str, Any] = field(repr=False)
    data_end: int | None  # where the tensor data should end; None if a tensor type is unknown

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None

    @property
    def chat_template(self) -> str | None:
        value = self.metadata.get("tokenizer.chat_template")
        return value if isinstance(value, str) and value.strip() else None

    @property
    def has_chat_template(self) -> bool:
        return self.chat_template is not None

    @property
    def context_length(self) -> int | None:
        value = self.metadata.get(f"{self.architecture}.context_length")
        return value if isinstance(value, int) else None

    @property
    def block_count(self) -> int | None:
        value = self.metadata.get(f"{self.architecture}.block_count")
        return value if isinstance(value, int) else None

    @property
    def file_type(self) -> str | None:
        """The quantisation name ("Q4_K_M", "F16"...), if the file says."""
        value = self.metadata.get("general.file_type")
        if not isinstance(value, int):
            return None
        return FILE_TYPES.get(value, f"type {value}")

    @property
    def name(self) -> str | None:
        value = self.metadata.get("general.name")
        return value if isinstance(value, str) else None


def format_size(size: int) -> str:
    """Bytes as a short human size, in decimal units ("253 MB", "1.2 GB", "540 KB")."""
    if size >= 1_000_000_000:
        return f"{size / 1e9:.1f} GB"
    if size >= 1_000_000:
        return f"{size / 1e6:.0f} MB"
    return f"{max(1, round(size / 1e3))} KB"


class _Truncated(Exception):
    """The header itself runs past the end of the file."""


class _Reader:
    def __init__(self, buffer: mmap.mmap) -> None:
        self.buffer = buffer
        self.offset = 0

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.offset + size > len(self.buffer):
            raise _Truncated
        (value,) = struct.unpack_from(fmt, self.buffer, self.offset)
        self.offset += size
        return value

    def string(self, *, keep: bool = True) -> str | None:
        length = self.unpack("<Q")
        end = self.offset + length
        if end > len(self.buffer):
            raise _Truncated
        raw = self.buffer[self.offset : end] if keep else None
        self.offset = end
        return raw.decode("utf-8", errors="replace") if raw is not None else None

    def value(self, value_type: int, *, keep: bool = True) -> Any:
        if value_type in _SCALARS:
            return self.unpack(_SCALARS[value_type])
        if value_type == _STRING:
            return self.string(keep=keep)
        if value_type == _ARRAY:
            item_type = self.unpack("<I")
            count = self.unpack("<Q")
            keep_items = keep and count <= _MAX_KEPT_ARRAY
            if item_type in _SCALARS and not keep_items:
                self.offset += count * struct.calcsize(_SCALARS[item_type])
                if self.offset > len(self.buffer):
                    raise _Truncated
                return None
            items = [self.value(item_type, keep=keep_items) for _ in range(count)]
            return items if keep_items else None
        raise ValueError(f"unknown metadata value type {value_type}")


def read_gguf(path: str | Path) -> GGUFInfo:
    """Read and check a GGUF header; raise a BackendError a user can act on if it is bad."""
    path = Path(path)
    if not path.exists():
        raise ModelNotFound(
            f"The model file {path} does not exist. It may have been moved or deleted; "
            "pick another model or download it again."
        )
    if path.is_dir():
        raise ModelNotFound(f"{path} is a folder, not a GGUF file. Pick the .gguf file inside it.")
    size = path.stat().st_size
    if size == 0:
        raise CorruptModel(f"The model file {path.name} is empty (0 bytes). Download it again.")
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        if buf[:4] != MAGIC:
            raise CorruptModel(
                f"{path.name} is not a GGUF model file (it does not start with 'GGUF'). "
                "llama.cpp only loads .gguf files; pick a GGUF download of this model."
            )
        try:
            return _parse(path, buf, size)
        except _Truncated:
            raise CorruptModel(
                f"This GGUF file is truncated: its header runs past the end of the file "
                f"({format_size(size)}). Download it again."
            ) from None
        except (ValueError, UnicodeDecodeError, struct.error) as error:
            raise CorruptModel(
                f"The header of {path.name} is damaged ({error}). Download it again."
            ) from None


def _parse(path: Path, buf: mmap.mmap, size: int) -> GGUFInfo:
    reader = _Reader(buf)
    reader.offset = 4
    version = reader.unpack("<I")
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedModel(
            f"{path.name} uses GGUF format version {version}; this app reads versions "
            f"{SUPPORTED_VERSIONS[0]}-{SUPPORTED_VERSIONS[-1]}. Try a newer release of "
            "localai-tui or a freshly converted file."
        )
    tensor_count = reader.unpack("<Q")
    kv_count = reader.unpack("<Q")
    if tensor_count > size or kv_count > size:
        raise ValueError("impossible tensor or metadata count")
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string() or ""
        value_type = reader.unpack("<I")
        metadata[key] = reader.value(value_type)
    data_end: int | None = 0
    for _ in range(tensor_count):
        reader.string(keep=False)
        n_dims = reader.unpack("<I")
        elements = 1
        for _ in range(n_dims):
            elements *= reader.unpack("<Q")
        tensor_type = reader.unpack("<I")
        offset = reader.unpack("<Q")
        block = GGML_TYPE_SIZES.get(tensor_type)
        if block is None or data_end is None:
            data_end = None
            continue
        per_block, block_bytes = block
        data_end = max(data_end, offset + -(-elements // per_block) * block_bytes)
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0:
        alignment = DEFAULT_ALIGNMENT
    data_start = -(-reader.offset // alignment) * alignment
    expected_end = data_start + data_end if data_end is not None else None
    if expected_end is not None and size < expected_end:
        raise CorruptModel(
            f"This GGUF file is truncated ({format_size(size)} of "
            f"{format_size(expected_end)}). Download it again."
        )
    return GGUFInfo(
        path=path,
        version=version,
        size_bytes=size,
        tensor_count=tensor_count,
        metadata=metadata,
        data_end=expected_end,
    )


def gguf_problem(path: str | Path) -> str | None:
    """Why this GGUF would not load (missing, not a GGUF, damaged header, truncated), else None.

    The same header check the engine runs before llama.cpp: a few reads, no weights, so the
    model picker can mark damaged files without loading them.
    """
    try:
        read_gguf(path)
    except (CorruptModel, ModelNotFound, UnsupportedModel) as error:
        return error.message
    except OSError as error:
        return f"{Path(path).name} cannot be read ({error.strerror or error})."
    return None
