"""One list of every model on disk, and deleting them with the bytes freed reported.

Sources: the HF cache (huggingface_hub.scan_cache_dir: repos, revisions, sizes), GGUF files
under the user's folders (Settings.model_dirs) and GGUF files shipped in a package (the demo).
"Last used" is when the app last loaded the model (backends.models.usage), not a file's atime,
which relatime/noatime mounts leave stale. Deleting goes through
huggingface_hub's DeleteCacheStrategy, so shared blobs are only removed when no other
revision uses them; `plan_delete(...).expected_freed_bytes` is the number for the
confirmation text, and `delete` measures what actually left the disk. No network is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from backends.errors import BackendError
from backends.models.usage import last_used, path_key, read_usage
from backends.speech.catalog import looks_like_ct2_whisper
from backends.speech.tts_catalog import looks_like_kokoro

if TYPE_CHECKING:
    from huggingface_hub import CachedRepoInfo, HFCacheInfo
    from huggingface_hub.utils import DeleteCacheStrategy

Engine = Literal["transformers", "llama_cpp", "diffusers", "faster_whisper", "kokoro"]
Source = Literal["hf-cache", "folder", "package"]
SortBy = Literal["size", "last_used", "name"]


@dataclass(frozen=True)
class CachedRevision:
    commit: str
    refs: tuple[str, ...]  # branches/tags pointing here ("main"); empty = detached
    size_bytes: int
    files: tuple[str, ...]
    snapshot_path: Path
    last_modified: float
    last_used: float | None = None  # when the app last loaded this revision


@dataclass(frozen=True)
class InventoryItem:
    """One row of the cache manager: an HF cache repo, a GGUF file in a user folder, or one
    shipped in a package (the demo model)."""

    name: str  # repo id, or the file name
    source: Source
    path: Path  # repo folder in the cache, or the GGUF file
    size_bytes: int
    last_used: float | None  # epoch seconds of the app's last load of it; None: never seen
    engine: Engine | None
    revisions: tuple[CachedRevision, ...] = ()
    task: str | None = None  # a task model's task ("token-classification"), or one not run here
    kind: str | None = None  # chat, image, speech, tts, tasks, unsupported (model_kind)

    @property
    def kind_label(self) -> str:
        """ "chat", "TTS", "token-classification", "summarization · not supported"…"""
        from backends.models.model_kind import label_of_kind

        kind = self.kind or ENGINE_KINDS.get(self.engine or "")
        return label_of_kind(kind, self.task) if kind else "—"

    @property
    def key(self) -> str:
        """The model key the app uses for it (the picker's, --model's)."""
        if self.source == "hf-cache":
            return f"hf:{self.name}"
        return f"{FOLDER_KEY_PREFIXES.get(self.engine, 'gguf')}:{self.path}"


# Model keys of things found in the user's folders, by engine (see backends.models.catalog).
FOLDER_KEY_PREFIXES: dict[Engine | None, str] = {
    "diffusers": "diffusers",
    "faster_whisper": "whisper",
    "kokoro": "kokoro",
    "transformers": "path",
}


# What each engine engine_for_files names runs, where no catalog spec says better (a GGUF
# file, a folder of the user's).
ENGINE_KINDS: dict[str, str] = {
    "llama_cpp": "chat",
    "transformers": "chat",
    "diffusers": "image",
    "faster_whisper": "speech",
    "kokoro": "tts",
}


@dataclass(frozen=True)
class Inventory:
    items: tuple[InventoryItem, ...]
    cache_dir: Path
    warnings: tuple[str, ...] = ()

    @property
    def total_bytes(self) -> int:
        return sum(i.size_bytes for i in self.items)

    def sorted(self, by: SortBy = "size") -> list[InventoryItem]:
        if by == "size":
            return sorted(self.items, key=lambda i: i.size_bytes, reverse=True)
        if by == "last_used":
            return sorted(self.items, key=lambda i: i.last_used or 0.0, reverse=True)
        return sorted(self.items, key=lambda i: i.name.lower())


@dataclass(frozen=True)
class DeletePlan:
    """What a delete would do; show `expected_freed_bytes` before calling `delete`.

    Either revisions of the HF cache (through huggingface_hub's strategy) or `paths` in the
    user's own folders (a GGUF file, a diffusers or Whisper folder)."""

    cache_dir: Path
    revisions: tuple[str, ...]
    expected_freed_bytes: int
    _strategy: DeleteCacheStrategy | None = None
    paths: tuple[Path, ...] = ()


def engine_for_files(files: Iterable[str]) -> Engine | None:
    names = {f.rsplit("/", 1)[-1] for f in files}
    if "model_index.json" in names:
        return "diffusers"
    if any(n.lower().endswith(".gguf") for n in names):
        return "llama_cpp"
    if looks_like_ct2_whisper(names):
        return "faster_whisper"
    if "config.json" in names and any(n.endswith((".safetensors", ".bin")) for n in names):
        return "transformers"
    return None


def _scan(cache_dir: Path) -> HFCacheInfo | None:
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        return scan_cache_dir(cache_dir)
    except CacheNotFound:
        return None


def _repo_item(repo: CachedRepoInfo, usage: Mapping[str, float]) -> InventoryItem:
    revisions = tuple(
        sorted(
            (
                CachedRevision(
                    rev.commit_hash,
                    tuple(sorted(rev.refs)),
                    rev.size_on_disk,
                    tuple(sorted(f.file_name for f in rev.files)),
                    rev.snapshot_path,
                    rev.last_modified,
                    last_used(usage, f"hf:{repo.repo_id}@{rev.commit_hash}"),
                )
                for rev in repo.revisions
            ),
            key=lambda r: r.last_modified,
            reverse=True,
        )
    )
    all_files = [
        str(f.file_path.relative_to(rev.snapshot_path)) for rev in repo.revisions for f in rev.files
    ]
    engine = engine_for_files(all_files)
    task, kind = None, None
    if revisions:
        from backends.models.catalog import repo_spec
        from backends.models.model_kind import model_kind

        latest = revisions[0]
        spec = repo_spec(repo.repo_id, latest.snapshot_path, set(latest.files), latest.size_bytes)
        if spec is not None:
            task, kind = spec.task, model_kind(spec)
    return InventoryItem(
        name=repo.repo_id,
        source="hf-cache",
        path=repo.repo_path,
        size_bytes=repo.size_on_disk,
        last_used=last_used(usage, f"hf:{repo.repo_id}"),
        engine=engine,
        revisions=revisions,
        task=task,
        kind=kind,
    )


def scan_inventory(
    cache_dir: Path,
    model_dirs: Sequence[Path] = (),
    packaged: Sequence[tuple[str, Path]] = (),
    usage: Mapping[str, float] | None = None,
) -> Inventory:
    """Everything on disk: HF cache model repos, GGUF files in `model_dirs`, and `packaged`
    (name, GGUF path) pairs such as the demo model.

    `usage` maps usage keys to load times (default: what backends.models.usage recorded).
    """
    if usage is None:
        usage = read_usage()
    items: list[InventoryItem] = []
    warnings: list[str] = []
    info = _scan(cache_dir)
    if info is not None:
        items += [_repo_item(r, usage) for r in info.repos if r.repo_type == "model"]
        warnings += [str(w) for w in info.warnings]
    seen: set[Path] = set()
    for folder in model_dirs:
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            warnings.append(
                f"Model folder {folder} does not exist; check model_dirs in the config file."
            )
            continue
        for path in sorted(folder.rglob("*.gguf")):
            real = path.resolve()
            if real in seen or "mmproj" in path.name.lower():
                continue
            seen.add(real)
            try:
                st = path.stat()
            except OSError:
                continue
            used = last_used(usage, path_key(path))
            items.append(InventoryItem(path.name, "folder", path, st.st_size, used, "llama_cpp"))
        items += _model_folders(folder, usage, seen)
    for name, path in packaged:
        try:
            size = path.stat().st_size
        except OSError:
            continue
        used = last_used(usage, path_key(path))
        items.append(InventoryItem(name, "package", path, size, used, "llama_cpp"))
    return Inventory(tuple(items), cache_dir, tuple(warnings))


def _model_folders(root: Path, usage: Mapping[str, float], seen: set[Path]) -> list[InventoryItem]:
    """Diffusers pipelines (model_index.json), CTranslate2 Whisper and Kokoro folders under `root`:
    a folder is one item, with everything inside it counted."""
    found: list[InventoryItem] = []
    for folder, dirs, files in os.walk(root):
        engine: Engine | None = None
        if "model_index.json" in files:
            engine = "diffusers"
        elif looks_like_ct2_whisper(files):
            engine = "faster_whisper"
        elif looks_like_kokoro(files):
            engine = "kokoro"
        if engine is None:
            continue
        dirs.clear()  # the pipeline's own subfolders are part of it
        path = Path(folder)
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        used = last_used(usage, path_key(path))
        found.append(InventoryItem(path.name, "folder", path, _disk_usage(path), used, engine))
    return found


def plan_delete_paths(paths: Sequence[Path]) -> DeletePlan:
    """Plan deleting files or folders in the user's own model folders."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise BackendError(f"{missing[0]} is not there any more. Refresh the list.")
    size = sum(_disk_usage(p) if p.is_dir() else p.stat().st_size for p in paths)
    return DeletePlan(Path(paths[0]).parent, (), size, None, tuple(paths))


def cached_files(cache_dir: Path, repo_id: str, revision: str = "main") -> set[str]:
    """Repo paths of `revision` (a branch/tag via refs/, or a commit) already in the cache,
    so the model page can mark quants that are downloaded. Works offline."""
    snapshot = snapshot_dir(cache_dir, repo_id, revision)
    if snapshot is None:
        return set()
    return {p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file()}


def snapshot_dir(cache_dir: Path, repo_id: str, revision: str = "main") -> Path | None:
    """The snapshot folder of `revision` (a branch/tag via refs/, or a commit), if cached."""
    storage = cache_dir / ("models--" + repo_id.replace("/", "--"))
    ref = storage / "refs" / revision
    try:
        commit = ref.read_text().strip() if ref.is_file() else revision
    except OSError:
        return None
    snapshot = storage / "snapshots" / commit
    return snapshot if snapshot.is_dir() else None


def plan_delete(cache_dir: Path, revisions: Sequence[str]) -> DeletePlan:
    """Plan deleting revisions (commit hashes) from the HF cache."""
    info = _scan(cache_dir)
    if info is None:
        raise BackendError(f"There is no Hugging Face cache at {cache_dir}. Nothing to delete.")
    from huggingface_hub.errors import CacheNotFound

    try:
        strategy = info.delete_revisions(*revisions)
    except (CacheNotFound, ValueError) as exc:
        raise BackendError(f"{exc}. Refresh the list and try again.") from None
    return DeletePlan(cache_dir, tuple(revisions), strategy.expected_freed_size, strategy)


def plan_delete_repo(cache_dir: Path, repo_id: str) -> DeletePlan:
    """Plan deleting every cached revision of a repo (its folder goes too)."""
    inventory = scan_inventory(cache_dir)
    item = next((i for i in inventory.items if i.name == repo_id and i.source == "hf-cache"), None)
    if item is None:
        raise BackendError(f"{repo_id} is not in the cache any more. Refresh the list.")
    return plan_delete(cache_dir, [r.commit for r in item.revisions])


def _disk_usage(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if not os.path.islink(os.path.join(root, name)):
                total += st.st_size
    return total


def delete(plan: DeletePlan) -> int:
    """Execute a plan; returns the bytes that actually left the disk."""
    if plan.paths:
        return _delete_paths(plan.paths)
    assert plan._strategy is not None
    before = _disk_usage(plan.cache_dir)
    try:
        plan._strategy.execute()
    except OSError as exc:
        raise BackendError(
            f"Could not delete from {plan.cache_dir}: {exc.strerror}. Check permissions."
        ) from None
    return max(0, before - _disk_usage(plan.cache_dir))


def _delete_paths(paths: Sequence[Path]) -> int:
    import shutil

    freed = 0
    for path in paths:
        try:
            size = _disk_usage(path) if path.is_dir() else path.stat().st_size
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as exc:
            raise BackendError(
                f"Could not delete {path}: {exc.strerror or exc}. Check permissions."
            ) from None
        freed += size
    return freed
