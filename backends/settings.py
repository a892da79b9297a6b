"""The one settings model: TOML in the user config dir, overridden by LOCALAI_TUI_* env vars.

Built once in the entry point and passed down; nothing reads settings at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from backends.base import GenerationParams, LoadOptions, ServerConfig
from backends.paths import config_file
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

    model_config = SettingsConfigDict(
        env_prefix="LOCALAI_TUI_", env_nested_delimiter="__", extra="ignore"
    )

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
    models: dict[str, ModelOverrides] = Field(
        default_factory=dict, description="Per-model load options, keyed by model key."
    )
    default_model: str | None = Field(
        default=None, description="Model key (or GGUF path) loaded at start."
    )
    keymap: dict[str, str] = Field(
        default_factory=dict, description="Binding id -> keys, e.g. {'app.pick_model' = 'f2'}."
    )
    theme: str = Field(default="textual-dark", description="Textual theme name.")
    offline: bool = Field(default=False, description="Never touch the network (like --offline).")
    hf_endpoint: str | None = Field(default=None, description="Hub endpoint (else HF_ENDPOINT).")
    speech: SpeechSettings = Field(
        default_factory=SpeechSettings, description="Speech to text (faster-whisper)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

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
    """Read settings from `path` (default: paths.config_file()), env vars and overrides."""
    toml_file = path or config_file()
    bound = type(
        "Settings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": toml_file}}
    )
    return bound(**overrides)
