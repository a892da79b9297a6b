"""The one settings model: TOML in the user config dir, overridden by LOCALAI_TUI_* env vars.

Built once in the entry point and passed down; nothing reads settings at import time.
Sources, lowest first: the TOML file, then `LOCALAI_TUI_<FIELD>` environment variables
(any case; `LOCALAI_TUI_SAMPLING__TEMPERATURE` for a nested field; JSON for lists, tables
and dicts), then the keyword overrides of `load_settings` - merged table by table, as
pydantic-settings did. The classes are validated by backends/settings_model.py, which
reads them without importing pydantic (0.12–0.28 s of startup, measured).
"""

from __future__ import annotations

import json
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from backends.base import DEFAULT_IMAGE_MAX_SIDE, GenerationParams, LoadOptions, ServerConfig
from backends.paths import config_file
from backends.settings_model import BaseModel, BaseSettings, Field
from backends.speech.protocol import SpeechLoadOptions, TranscribeOptions


class ServerEntry(BaseModel):
    """An OpenAI-compatible server to list models from."""

    name: str = Field(description="Short name shown in the model picker.")
    base_url: str = Field(description="Base URL including /v1, e.g. http://gpu-box:8000/v1.")
    api_key: str | None = Field(default=None, description="Bearer token, if the server wants one.")

    def to_config(self) -> ServerConfig:
        return ServerConfig(name=self.name, base_url=self.base_url, api_key=self.api_key)


class SamplingDefaults(BaseModel):
    """Default sampling parameters for new conversations."""

    temperature: float = Field(default=0.7, ge=0.0, le=5.0, description="0 is greedy.")
    top_p: float = Field(default=0.95, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    top_k: int = Field(default=40, ge=0, description="0 disables top-k.")
    max_new_tokens: int = Field(default=512, ge=1, description="Longest answer, in tokens.")
    repetition_penalty: float = Field(default=1.0, gt=0.0, description="1.0 is off.")
    seed: int | None = Field(default=None, description="Fixed seed for repeatable answers.")

    def to_params(self) -> GenerationParams:
        return GenerationParams(**self.model_dump())


class ModelOverrides(BaseModel):
    """Per-model load options, keyed by ModelSpec.key in Settings.models."""

    device: str = Field(default="auto", description="auto, cuda, cpu or mps.")
    dtype: str = Field(default="auto", description="auto, float32, float16 or bfloat16.")
    quantization: str = Field(default="none", description="none, int8, int4 or nf4 (CUDA).")
    trust_remote_code: bool = Field(
        default=False, description="Run the repo's own Python code. Only for repos you trust."
    )
    adapters: list[str] = Field(default_factory=list, description="LoRA/PEFT adapter paths.")
    n_ctx: int = Field(default=4096, ge=256, description="llama.cpp context length.")
    n_gpu_layers: int = Field(default=-1, description="llama.cpp layers on the GPU; -1 all.")


class ImageSettings(BaseModel):
    """Image generation: where pictures go, and how image models share memory."""

    outputs_dir: Path | None = Field(
        default=None,
        description="Folder for generated PNGs (one subfolder per day); default: "
        "<data dir>/images.",
    )
    memory_saver: str = Field(
        default="none",
        description="CUDA only: none, offload (model CPU offload) or sequential-offload "
        "(slowest, least VRAM).",
    )
    vae_tiling: bool = Field(default=False, description="CUDA only: decode big images in tiles.")
    unload_chat_model: str = Field(
        default="ask",
        description="On a GPU that cannot hold both: ask, always or never unload the chat "
        "model before loading an image model.",
    )
    base_pipelines: dict[str, str] = Field(
        default_factory=dict,
        description="GGUF transformer path -> the diffusers repo or folder it belongs in.",
    )
    default_negative_prompt: str = Field(default="", description="Pre-filled negative prompt.")
    live_preview: bool = Field(
        default=True,
        description="Show a rough picture every few steps while an image is made (costs the "
        "UI a redraw each time; turn off on a slow machine).",
    )
    renderer: str = Field(
        default="auto",
        description="How pictures are drawn: auto (Kitty graphics or Sixel when the terminal "
        "answers, else colour half-cells), halfcell, unicode, sixel or kitty.",
    )

    def resolved_outputs_dir(self) -> Path:
        if self.outputs_dir is not None:
            return Path(self.outputs_dir).expanduser()
        from backends.paths import data_dir

        return data_dir() / "images"


class SpeechSettings(BaseModel):
    """Speech to text with faster-whisper (the Speech screen and push-to-talk)."""

    model: str | None = Field(
        default=None, description="Speech model key or folder; else the first one found."
    )
    device: str = Field(default="auto", description="auto, cpu or cuda.")
    compute_type: str = Field(
        default="default",
        description="default (int8 on CPU, float16 on CUDA), int8, int8_float16, float16, float32.",
    )
    language: str = Field(default="auto", description="auto-detect, or a code such as en, de.")
    translate: bool = Field(default=False, description="Translate the speech into English.")
    vad_filter: bool = Field(default=False, description="Skip silence (Silero VAD) first.")
    beam_size: int = Field(default=5, ge=1, le=20, description="Beam search width.")
    cpu_threads: int | None = Field(
        default=None, ge=1, description="CPU threads for decoding; unset: cores - 1."
    )

    def load_options(self) -> SpeechLoadOptions:
        return SpeechLoadOptions(
            device=self.device,  # type: ignore[arg-type]
            compute_type=self.compute_type,  # type: ignore[arg-type]
            cpu_threads=self.cpu_threads,
        )

    def transcribe_options(self) -> TranscribeOptions:
        return TranscribeOptions(
            language=None if self.language in ("", "auto") else self.language,
            task="translate" if self.translate else "transcribe",
            vad_filter=self.vad_filter,
            beam_size=self.beam_size,
        )


class Settings(BaseSettings):
    """localai-tui settings. Every field can be set in config.toml or as LOCALAI_TUI_<FIELD>."""

    model_dirs: list[Path] = Field(
        default_factory=list, description="Folders searched (recursively) for .gguf files."
    )
    servers: list[ServerEntry] = Field(
        default_factory=list, description="OpenAI-compatible servers whose models are listed."
    )
    sampling: SamplingDefaults = Field(
        default_factory=SamplingDefaults, description="Default sampling parameters."
    )
    system_prompt: str = Field(default="", description="System prompt for new conversations.")
    image_max_side: int = Field(
        default=DEFAULT_IMAGE_MAX_SIDE,
        ge=0,
        description="Pictures in a chat go to the model scaled down to this many pixels on "
        "their longest side (the stored copy keeps its size); 0 sends them as they are.",
    )
    models: dict[str, ModelOverrides] = Field(
        default_factory=dict, description="Per-model load options, keyed by model key."
    )
    default_model: str | None = Field(
        default=None, description="Model key (or GGUF path) loaded at start."
    )
    keymap: dict[str, str] = Field(
        default_factory=dict, description="Binding id -> keys, e.g. {'app.pick_model' = 'f2'}."
    )
    images: ImageSettings = Field(
        default_factory=ImageSettings, description="Image generation settings."
    )
    theme: str = Field(default="textual-dark", description="Textual theme name.")
    offline: bool = Field(default=False, description="Never touch the network (like --offline).")
    hf_endpoint: str | None = Field(default=None, description="Hub endpoint (else HF_ENDPOINT).")
    speech: SpeechSettings = Field(
        default_factory=SpeechSettings, description="Speech to text (faster-whisper)."
    )

    @classmethod
    def from_sources(
        cls, toml_file: Path, environ: Mapping[str, str], overrides: Mapping[str, Any]
    ) -> Settings:
        """Validate the TOML file, env vars and overrides merged (later ones win)."""
        merged = _read_toml(toml_file)
        _deep_update(merged, _env_values(cls, environ))
        _deep_update(merged, dict(overrides))
        return cls(**merged)

    def load_options_for(self, key: str) -> LoadOptions:
        o = self.models.get(key, ModelOverrides())
        return LoadOptions(
            device=o.device,  # type: ignore[arg-type]
            dtype=o.dtype,  # type: ignore[arg-type]
            quantization=o.quantization,  # type: ignore[arg-type]
            trust_remote_code=o.trust_remote_code,
            adapters=tuple(o.adapters),
            n_ctx=o.n_ctx,
            n_gpu_layers=o.n_gpu_layers,
        )


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read settings from `path` (default: paths.config_file()), env vars and overrides.

    Raises ValueError (a settings_model.ValidationError naming each bad field, or the TOML
    parser's error with its line) when they are not valid.
    """
    return Settings.from_sources(path or config_file(), os.environ, overrides)


ENV_PREFIX = "LOCALAI_TUI_"
ENV_NESTED_DELIMITER = "__"


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    with path.open("rb") as file:
        return tomllib.load(file)


def _env_values(model: type[BaseModel], environ: Mapping[str, str]) -> dict[str, Any]:
    """The fields set by environment variables, as a (nested) dict of raw values."""
    fields = model.field_specs()
    found: dict[str, Any] = {}
    for name in sorted(environ, key=len):  # a whole table first, its nested fields after
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split(ENV_NESTED_DELIMITER)
        if path[0] not in fields:
            continue  # another LOCALAI_TUI_ variable (CONFIG, DATA_DIR) or an unknown field
        annotation = fields[path[0]][0]
        for key in path[1:]:
            annotation = _inner(annotation, key)
        raw = environ[name]
        value: Any = raw
        if _is_complex(annotation):
            try:
                value = json.loads(raw)
            except ValueError as error:
                raise ValueError(
                    f"{name} must be JSON for this setting (a list or a table): {error}"
                ) from None
        target = found
        for key in path[:-1]:
            target = target.setdefault(key, {})
            if not isinstance(target, dict):
                break
        else:
            existing = target.get(path[-1])
            if isinstance(existing, dict) and isinstance(value, dict):
                _deep_update(existing, value)
            else:
                target[path[-1]] = value
    return found


def _strip_optional(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return args[0] if len(args) == 1 else annotation
    return annotation


def _inner(annotation: Any, key: str) -> Any:
    """The type of `key` inside a table field (a model's field, or a dict's values)."""
    annotation = _strip_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        spec = annotation.field_specs().get(key)
        return spec[0] if spec else Any
    if typing.get_origin(annotation) is dict:
        return typing.get_args(annotation)[1]
    return Any


def _is_complex(annotation: Any) -> bool:
    annotation = _strip_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return typing.get_origin(annotation) in (list, dict)


def _deep_update(target: dict[str, Any], updates: dict[str, Any]) -> None:
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value
