"""Group a GGUF repo's files by quantization and estimate whether each group fits in memory.

Memory estimate (documented, conservative; llama.cpp needs the weights plus the KV cache plus
compute buffers):

    required = weights + mmproj + context
    context  = n_ctx * kv_per_token + 64 MiB + 5 % of weights      (compute/scratch buffers)
    kv_per_token = 128 KiB * (params / 8e9) ** 0.6, at least 4 KiB  (f16 K and V)
    params   = weights * 8 / bits_per_weight(quant)

The KV term is fitted on Llama-3 style GQA models (8B: 128 KiB/token, 1B: 32 KiB/token) and
over-estimates older non-GQA shapes less than it would under-estimate them. A file list has no
architecture, so this is an estimate, shown as such; the loaded engine reports real numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from backends.hub.models import RepoFile

MiB = 1024 * 1024
KiB = 1024

_QUANT_RE = re.compile(
    r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]+)*|TQ\d_\d|MXFP4(?:_MOE)?|BF16|FP16|FP32|F16|F32|FP8)"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SPLIT_RE = re.compile(r"-(\d{5})-of-(\d{5})(?=\.gguf$)", re.IGNORECASE)

# Average bits per weight of llama.cpp quant types (llama.cpp's quantize table, rounded).
_BITS_PER_WEIGHT = {
    "IQ1_S": 1.56, "IQ1_M": 1.75, "IQ2_XXS": 2.06, "IQ2_XS": 2.31, "IQ2_S": 2.5, "IQ2_M": 2.7,
    "IQ3_XXS": 3.06, "IQ3_XS": 3.3, "IQ3_S": 3.44, "IQ3_M": 3.66, "IQ4_XS": 4.25, "IQ4_NL": 4.5,
    "Q2_K": 2.96, "Q2_K_S": 2.8, "Q3_K_S": 3.5, "Q3_K_M": 3.9, "Q3_K_L": 4.3, "Q4_0": 4.55,
    "Q4_1": 5.0, "Q4_K_S": 4.58, "Q4_K_M": 4.85, "Q5_0": 5.54, "Q5_1": 6.0, "Q5_K_S": 5.54,
    "Q5_K_M": 5.69, "Q6_K": 6.59, "Q8_0": 8.5, "TQ1_0": 1.69, "TQ2_0": 2.06, "MXFP4": 4.25,
    "F16": 16.0, "FP16": 16.0, "BF16": 16.0, "F32": 32.0, "FP32": 32.0, "FP8": 8.0,
}  # fmt: skip

FitPlace = Literal["gpu", "ram", "split", "none", "unknown"]


@dataclass(frozen=True)
class FitEstimate:
    """Estimated memory for one quant at `n_ctx`, and where it fits.

    place: "gpu" fits in free VRAM; "ram" fits in free RAM (CPU); "split" only fits with layers
    divided between VRAM and RAM; "none" fits nowhere; "unknown" when no free sizes were given.
    """

    weights_bytes: int
    mmproj_bytes: int
    context_bytes: int
    n_ctx: int
    place: FitPlace

    @property
    def required_bytes(self) -> int:
        return self.weights_bytes + self.mmproj_bytes + self.context_bytes

    @property
    def fits(self) -> bool:
        return self.place in ("gpu", "ram", "split")


@dataclass(frozen=True)
class QuantGroup:
    """The files of one quantization (several when split), plus the mmproj a vision model needs."""

    label: str  # "Q4_K_M", "IQ3_XXS", "F16"; "unknown" when no quant is named
    files: tuple[RepoFile, ...]
    mmproj: RepoFile | None
    fit: FitEstimate

    @property
    def size_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def is_split(self) -> bool:
        return len(self.files) > 1

    @property
    def bits_per_weight(self) -> float | None:
        return bits_per_weight(self.label)

    def download_paths(self) -> list[str]:
        """Exact repo paths to pass as allow_patterns: the weights and the mmproj if any."""
        return [f.path for f in self.files] + ([self.mmproj.path] if self.mmproj else [])


def quant_label(path: str) -> str:
    """The quantization named in a GGUF file name ("unknown" if none)."""
    name = _SPLIT_RE.sub("", path.rsplit("/", 1)[-1])
    matches = _QUANT_RE.findall(name)
    return matches[-1].upper() if matches else "unknown"


def split_part(path: str) -> tuple[int, int] | None:
    """(part, total) for split files like model-00001-of-00003.gguf."""
    match = _SPLIT_RE.search(path)
    return (int(match.group(1)), int(match.group(2))) if match else None


def is_mmproj(path: str) -> bool:
    return "mmproj" in path.rsplit("/", 1)[-1].lower()


def bits_per_weight(label: str) -> float | None:
    if label in _BITS_PER_WEIGHT:
        return _BITS_PER_WEIGHT[label]
    match = re.match(r"I?Q(\d)", label)
    return int(match.group(1)) + 0.8 if match else None


def context_bytes(weights_bytes: int, label: str, n_ctx: int) -> int:
    """The documented context overhead (KV cache + compute buffers) for `n_ctx` tokens."""
    bpw = bits_per_weight(label) or 16.0
    params = weights_bytes * 8 / bpw
    kv_per_token = max(4 * KiB, 128 * KiB * (params / 8e9) ** 0.6)
    return int(n_ctx * kv_per_token + 64 * MiB + 0.05 * weights_bytes)


def estimate_fit(
    weights_bytes: int,
    label: str,
    *,
    mmproj_bytes: int = 0,
    n_ctx: int = 4096,
    free_vram: int | None = None,
    free_ram: int | None = None,
) -> FitEstimate:
    """Where a model of this size fits, given free bytes (from backends/device.py)."""
    ctx = context_bytes(weights_bytes, label, n_ctx)
    need = weights_bytes + mmproj_bytes + ctx
    place: FitPlace
    if free_vram is None and free_ram is None:
        place = "unknown"
    elif free_vram is not None and need <= free_vram:
        place = "gpu"
    elif free_ram is not None and need <= free_ram:
        place = "ram"
    elif (free_vram or 0) + (free_ram or 0) >= need and free_vram and free_ram:
        place = "split"
    else:
        place = "none"
    return FitEstimate(weights_bytes, mmproj_bytes, ctx, n_ctx, place)


def _pick_mmproj(mmprojs: Sequence[RepoFile], label: str) -> RepoFile | None:
    """The projector to offer with a quant: same quant if published, else F16, else the smallest."""
    if not mmprojs:
        return None
    for wanted in (label, "F16", "BF16"):
        for f in mmprojs:
            if quant_label(f.path) == wanted:
                return f
    return min(mmprojs, key=lambda f: f.size)


def group_quants(
    files: Iterable[RepoFile],
    *,
    n_ctx: int = 4096,
    free_vram: int | None = None,
    free_ram: int | None = None,
) -> list[QuantGroup]:
    """GGUF files grouped by quant, smallest first; mmproj files are attached, not listed."""
    ggufs = [f for f in files if f.path.lower().endswith(".gguf")]
    mmprojs = [f for f in ggufs if is_mmproj(f.path)]
    by_label: dict[str, list[RepoFile]] = {}
    for f in ggufs:
        if not is_mmproj(f.path):
            by_label.setdefault(quant_label(f.path), []).append(f)
    groups = []
    for label, members in by_label.items():
        members.sort(key=lambda f: (split_part(f.path) or (0, 0), f.path))
        mmproj = _pick_mmproj(mmprojs, label)
        weights = sum(f.size for f in members)
        fit = estimate_fit(
            weights,
            label,
            mmproj_bytes=mmproj.size if mmproj else 0,
            n_ctx=n_ctx,
            free_vram=free_vram,
            free_ram=free_ram,
        )
        groups.append(QuantGroup(label, tuple(members), mmproj, fit))
    groups.sort(key=lambda g: (g.size_bytes, g.label))
    return groups
