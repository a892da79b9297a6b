"""Where a Pocket TTS model's files are: its config, weights, tokenizer and voices, all local.

pocket-tts names its files as `hf://repo/path@revision` in YAML configs and downloads what
is missing on first use. Here every such name is resolved against the Hugging Face cache
only (`local_files_only`), or against the model's own folder, and the config handed to the
library holds plain local paths, so nothing is ever fetched behind the user's back. What is
missing becomes a ModelNotFound naming the repo to download.

Two layouts load:
- a folder with a pocket-tts YAML config (`flow_lm:` and `mimi:` sections) whose paths are
  relative to the folder, absolute, or `hf://` names found in the cache; voices are the
  `.safetensors` states and audio files in its `voices/` or `embeddings/` subfolder;
- a snapshot of `kyutai/pocket-tts` or `kyutai/pocket-tts-without-voice-cloning` (or its
  `languages/<language>` folder): the package's own config for that language, its
  built-in voices from the cache.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.errors import ModelNotFound, UnsupportedModel

REPO_HINT = (
    "Download kyutai/pocket-tts-without-voice-cloning (built-in voices) or kyutai/pocket-tts "
    "(voice cloning, gated: accept its terms on the Hub first) in the Hub screen (F3, task "
    "text-to-speech), or point to a folder with a pocket-tts YAML config and its weights."
)
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")
VOICE_SUFFIXES = (".safetensors", *AUDIO_SUFFIXES)
# pocket-tts config names -> BCP 47 language of their voices.
LANGUAGE_TAGS = {
    "english": "en", "french": "fr", "german": "de", "portuguese": "pt", "italian": "it",
    "spanish": "es", "dutch": "nl",
}  # fmt: skip


@dataclass
class PocketFiles:
    """A config with local paths only, and the voices found: id -> local file."""

    config_path: Path
    language: str  # BCP 47 ("en"), "unknown" for a custom model that does not say
    voices: dict[str, Path] = field(default_factory=dict)
    voice_cloning: bool = True


def language_tag(name: str) -> str:
    """ "english_24l" -> "en"; "unknown" when no known language starts the name."""
    for key, tag in LANGUAGE_TAGS.items():
        if name.lower().startswith(key):
            return tag
    return "unknown"


def resolve_ref(ref: str, base: Path) -> Path | None:
    """A local file for a config path: relative to `base`, absolute, or an `hf://` name in
    the cache (its pinned revision, else the cached main, else the same path under `base`
    when `base` is that repo's snapshot or a plain folder). None when it is not here."""
    if ref.startswith(("http://", "https://")):
        return None
    if not ref.startswith("hf://"):
        path = Path(ref).expanduser()
        path = path if path.is_absolute() else base / path
        return path if path.is_file() else None
    repo_path, _, revision = ref.removeprefix("hf://").partition("@")
    parts = repo_path.split("/")
    repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
    from huggingface_hub import hf_hub_download

    for rev in (revision or None, None):
        try:
            return Path(hf_hub_download(repo_id, filename, revision=rev, local_files_only=True))
        except Exception:  # not cached at that revision (LocalEntryNotFoundError and kin)
            continue
    if cache_repo(base) not in (None, repo_id):  # the folder is another repo's snapshot
        return None
    local = base / filename.removeprefix(f"languages/{base.name}/")
    return local if local.is_file() else None


def cache_repo(path: Path) -> str | None:
    """ "kyutai/pocket-tts" for a path inside that repo's HF cache folder, else None."""
    for part in path.parts:
        if part.startswith("models--"):
            return part.removeprefix("models--").replace("--", "/")
    return None


def _required(ref: str | None, base: Path, what: str) -> str | None:
    if ref is None:
        return None
    path = resolve_ref(ref, base)
    if path is None:
        raise ModelNotFound(f"The Pocket TTS {what} {ref} is not on this machine. {REPO_HINT}")
    return str(path)


def find_config(folder: Path) -> Path | None:
    """The pocket-tts YAML config in `folder` (one with flow_lm and mimi sections)."""
    for candidate in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            text = candidate.read_text(encoding="utf-8")
        except OSError:
            continue
        if "flow_lm:" in text and "mimi:" in text:
            return candidate
    return None


def language_folders(snapshot: Path) -> list[Path]:
    """`languages/<name>` folders of a pocket-tts snapshot whose name the package knows."""
    from pocket_tts.utils.config import CONFIGS_DIR

    root = snapshot / "languages"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (CONFIGS_DIR / f"{p.name}.yaml").is_file())


def locate(path: Path, scratch: Path | None = None) -> PocketFiles:
    """The local files of the model at `path`; ModelNotFound / UnsupportedModel saying
    what is missing. The resolved config is written under `scratch` (a temp dir)."""
    import yaml
    from pocket_tts.utils.config import CONFIGS_DIR

    path = path.expanduser()
    if not path.exists():
        raise ModelNotFound(f"No Pocket TTS model at {path}. {REPO_HINT}")
    folder = path if path.is_dir() else path.parent
    config = path if path.suffix in (".yaml", ".yml") else find_config(folder)
    voice_dirs: list[Path] = []
    if config is not None:
        base, language = folder, language_tag(config.stem)
        voice_dirs = [folder / "voices", folder / "embeddings"]
    else:
        if (folder / "model.safetensors").is_file() and folder.parent.name == "languages":
            base = folder
        else:
            found = language_folders(folder)
            english = [f for f in found if f.name == "english"]
            if not found:
                raise UnsupportedModel(
                    f"{folder} is not a Pocket TTS model: no pocket-tts YAML config and no "
                    f"languages/<language> folder. {REPO_HINT}"
                )
            base = (english or found)[0]
        config = CONFIGS_DIR / f"{base.name}.yaml"
        language = language_tag(base.name)
        voice_dirs = [base / "embeddings"]
    data: dict[str, Any] = yaml.safe_load(config.read_text(encoding="utf-8"))
    files = PocketFiles(config, language)
    cloning = resolve_ref(data["weights_path"], base) if data.get("weights_path") else None
    if data.get("weights_path") and cloning is None:
        without = data.get("weights_path_without_voice_cloning") or data["weights_path"]
        data["weights_path"] = _required(without, base, "weights")
        files.voice_cloning = False
    elif cloning is not None:
        data["weights_path"] = str(cloning)
    data.pop("weights_path_without_voice_cloning", None)
    for section in ("flow_lm", "mimi"):
        part = data.get(section, {})
        part["weights_path"] = _required(part.get("weights_path"), base, f"{section} weights")
        if part["weights_path"] is None:
            part.pop("weights_path")
    table = data["flow_lm"]["lookup_table"]
    table["tokenizer_path"] = _required(table["tokenizer_path"], base, "tokenizer")
    if config.parent == CONFIGS_DIR:
        files.voices.update(builtin_voices(base.name, base))
    for voice_dir in voice_dirs:
        if voice_dir.is_dir():
            for voice in sorted(voice_dir.iterdir()):
                if voice.suffix.lower() in VOICE_SUFFIXES:
                    files.voices.setdefault(voice.stem, voice)
    scratch = scratch or Path(tempfile.mkdtemp(prefix="pocket-tts-"))
    scratch.mkdir(parents=True, exist_ok=True)
    files.config_path = scratch / "config.yaml"
    files.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return files


def builtin_voices(language: str, base: Path) -> dict[str, Path]:
    """The package's named voices whose precomputed states are in the cache for `language`."""
    from pocket_tts.utils.utils import _ORIGINS_OF_PREDEFINED_VOICES, get_predefined_voice

    found: dict[str, Path] = {}
    for name in _ORIGINS_OF_PREDEFINED_VOICES:
        local = base / "embeddings" / f"{name}.safetensors"
        state = (
            local if local.is_file() else resolve_ref(get_predefined_voice(language, name), base)
        )
        if state is not None:
            found[name] = state
    return found
