"""Typed values the Hub client returns: search queries and pages, model summaries, files.

All frozen dataclasses, safe to pass between threads and to compare: a TUI that searches as
the user types keeps the latest `SearchQuery` and drops any `ModelPage` whose `.query` differs.
A model's card, which also holds its GGUF quants, is in model_card.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

SortKey = Literal["downloads", "likes", "updated", "trending"]
Library = Literal["transformers", "diffusers", "gguf", "ctranslate2"]
EngineName = Literal[
    "transformers", "llama_cpp", "diffusers", "sdcpp", "faster_whisper", "transformers_tasks",
    "kokoro", "pocket_tts",
]  # fmt: skip
# Hub tasks of voices (text to speech); a repo of one runs here when an engine reads it.
TTS_TASKS = ("text-to-speech", "text-to-audio")

# Hub sort keys for ours.
HUB_SORT: dict[str, str] = {
    "downloads": "downloads",
    "likes": "likes",
    "updated": "lastModified",
    "trending": "trendingScore",
}

TASKS: tuple[str, ...] = (
    "text-generation",
    "image-text-to-text",
    "text-to-image",
    "automatic-speech-recognition",
    "feature-extraction",
    "text-to-speech",
    "text-to-audio",
    "token-classification",
    "text-classification",
    "fill-mask",
    "zero-shot-classification",
    "image-classification",
    "zero-shot-image-classification",
    "object-detection",
    "audio-classification",
)


@dataclass(frozen=True)
class SearchQuery:
    """What the user asked for. Hashable and comparable, so stale pages are easy to spot.

    runs_here keeps models our engines load: GGUF (llama.cpp) and transformers safetensors
    for text-generation / image-text-to-text. With `library` set, the Hub filters; without
    it, the page is filtered here (a page may then hold fewer than `limit` items).
    """

    text: str = ""
    task: str | None = None
    library: Library | None = None
    runs_here: bool = False
    sort: SortKey = "downloads"
    author: str | None = None
    limit: int = 30


@dataclass(frozen=True)
class ModelSummary:
    """One search result row."""

    repo_id: str
    task: str | None
    library: str | None
    downloads: int
    likes: int
    updated: datetime | None
    gated: bool  # True for "auto" and "manual" gating
    private: bool
    tags: tuple[str, ...]
    engine: EngineName | None  # the engine that would run it here, None if none does

    @property
    def runs_here(self) -> bool:
        return self.engine is not None

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo_id}"


@dataclass(frozen=True)
class ModelPage:
    """One page of results. `next_cursor` is opaque (pass it back to search); None at the end."""

    query: SearchQuery
    items: tuple[ModelSummary, ...]
    next_cursor: str | None
    scanned: int = 0  # items the Hub returned before runs_here filtering

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


@dataclass(frozen=True)
class RepoFile:
    """A file in a repo revision; sha256 is set for LFS files (used to verify downloads)."""

    path: str
    size: int
    sha256: str | None = None
    blob_id: str | None = None

    @property
    def is_lfs(self) -> bool:
        return self.sha256 is not None


@dataclass(frozen=True)
class RepoListing:
    """The files of one resolved revision (what the download queue needs)."""

    repo_id: str
    revision: str
    commit: str
    files: tuple[RepoFile, ...]
    pipeline_tag: str | None = None  # the Hub's task for the repo, kept at download


def engine_for(
    tags: tuple[str, ...] | list[str], library: str | None, task: str | None
) -> EngineName | None:
    """The engine that runs a repo with these tags here, or None.

    A transformers repo of a pipeline task the Tasks screen runs (NER, detection...) runs
    with the task engine; a Kokoro voice (text-to-speech) with kokoro-onnx, if its files are
    the ONNX export (the catalog checks them once downloaded), a Pocket TTS one with
    pocket-tts (by tags: a search result has no files)."""
    from backends.tasks.protocol import TASK_INPUTS, canonical_task

    tagset = set(tags)
    if task in TTS_TASKS:
        lowered = " ".join(tagset).lower()
        if "pocket-tts" in lowered or "pocket_tts" in lowered:
            return "pocket_tts"
        return "kokoro" if "kokoro" in lowered else None
    if library == "gguf" or "gguf" in tagset:
        # A GGUF of a diffusion model (FLUX, SD3, Z-Image…) runs in stable-diffusion.cpp.
        return "sdcpp" if task in ("text-to-image", "image-to-image") else "llama_cpp"
    if library == "diffusers" or "diffusers" in tagset:
        return "diffusers"
    if (library == "ctranslate2" or "ctranslate2" in tagset) and (
        task == "automatic-speech-recognition" or "whisper" in tagset
    ):
        return "faster_whisper"  # Systran/faster-whisper-*, distil and turbo conversions
    if (library == "transformers" or "transformers" in tagset) and "safetensors" in tagset:
        if task in (None, "text-generation", "image-text-to-text"):
            return "transformers"
        if canonical_task(task) in TASK_INPUTS:
            return "transformers_tasks"
    return None


def strip_front_matter(text: str) -> str:
    """README Markdown without its leading `---` YAML block."""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            return text[end + 4 :].lstrip("\n")
    return text
