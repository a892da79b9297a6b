"""The one settings model: TOML in the user config dir, overridden by LOCALAI_TUI_* env vars.

Built once in the entry point and passed down; nothing reads settings at import time.
Sources, lowest first: the TOML file, then `LOCALAI_TUI_<FIELD>` environment variables, then
the keyword overrides of `load_settings`, merged table by table (backends/settings_sources.py).
The classes are msgspec `Struct`s: typed, bounds in `Meta`, a docstring under every field;
msgspec validates in microseconds and imports in milliseconds (pydantic cost 0.12–0.28 s of
startup, measured). Unknown keys are ignored. A bad value raises SettingsError naming the field's
path, the value and, for one set by an environment variable, the variable
(backends/settings_errors.py).

Constructing a class directly (`SamplingDefaults(top_k=5)`) does not validate, as with any
Struct; data from a user goes through `validated` (or `load_settings`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import Meta, Struct, field

from backends.image_limits import DEFAULT_IMAGE_MAX_SIDE
from backends.paths import config_file
from backends.settings_errors import Loc, SettingsError, SettingsProblem, find_problems
from backends.settings_sources import deep_update, env_values, read_toml

if TYPE_CHECKING:  # imported when used: the speech modules are not needed to start
    # nor backends.base (its dataclasses cost the first frame ~9 ms to define)
    from backends.base import GenerationParams, LoadOptions, ServerConfig
    from backends.speech.protocol import SpeechLoadOptions, TranscribeOptions
    from backends.tools.mcp_config import McpServerConfig

__all__ = [
    "ImageSettings",
    "McpServerEntry",
    "ModelOverrides",
    "SamplingDefaults",
    "ServerEntry",
    "Settings",
    "SettingsError",
    "SettingsProblem",
    "SpeechSettings",
    "TtsSettings",
    "ToolSettings",
    "load_settings",
    "validated",
]

NonNegative = Annotated[int, Meta(ge=0)]
Positive = Annotated[int, Meta(ge=1)]
Seconds = Annotated[float, Meta(gt=0)]


class ServerEntry(Struct, kw_only=True, forbid_unknown_fields=True):
    """A server to use models from: OpenAI-compatible, AUTOMATIC1111 / Forge or ComfyUI."""

    name: str
    """Short name shown in the model picker."""
    base_url: str
    """openai: the base URL including /v1, e.g. http://gpu-box:8000/v1; a1111 and comfyui: the
    root, e.g. http://gpu-box:7860."""
    kind: Literal["openai", "a1111", "comfyui"] = "openai"
    """What the server speaks: openai (vLLM, llama-server, Ollama, LocalAI, speaches…), a1111
    (AUTOMATIC1111 / Forge) or comfyui."""
    api_key: str | None = None
    """Bearer token, if the server wants one (never shown or logged)."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra request headers, e.g. an auth proxy's (never shown or logged)."""
    ca_file: Path | None = None
    """PEM file of a private CA to trust for this https server."""
    timeout_s: Seconds = 600.0
    """Longest wait for one answer from the server, seconds."""
    connect_timeout_s: Seconds = 5.0
    """Longest wait to connect to the server, seconds."""
    workflows: list[Path] = field(default_factory=list)
    """comfyui: API-format workflow files (Workflow > Export (API)) offered as image models."""

    def __repr__(self) -> str:  # never the key or the headers: settings may be logged
        return f"ServerEntry(name={self.name!r}, base_url={self.base_url!r}, kind={self.kind!r})"

    def to_config(self) -> ServerConfig:
        from backends.base import ServerConfig

        return ServerConfig(
            name=self.name,
            base_url=self.base_url,
            api_key=self.api_key,
            kind=self.kind,
            headers=tuple(sorted(self.headers.items())),
            ca_file=str(Path(self.ca_file).expanduser()) if self.ca_file else None,
            timeout_s=self.timeout_s,
            connect_timeout_s=self.connect_timeout_s,
        )


class SamplingDefaults(Struct, kw_only=True, forbid_unknown_fields=True):
    """Default sampling parameters for new conversations."""

    temperature: Annotated[float, Meta(ge=0.0, le=5.0)] = 0.7
    """0 is greedy."""
    top_p: Annotated[float, Meta(gt=0.0, le=1.0)] = 0.95
    """Nucleus sampling mass."""
    top_k: NonNegative = 40
    """0 disables top-k."""
    max_new_tokens: Positive = 512
    """Longest answer, in tokens."""
    repetition_penalty: Annotated[float, Meta(gt=0.0)] = 1.0
    """1.0 is off."""
    seed: int | None = None
    """Fixed seed for repeatable answers."""

    def to_params(self) -> GenerationParams:
        from backends.base import GenerationParams

        return GenerationParams(**msgspec.structs.asdict(self))


class ModelOverrides(Struct, kw_only=True, forbid_unknown_fields=True):
    """Per-model load options, keyed by ModelSpec.key in Settings.models."""

    device: str = "auto"
    """auto, cuda, cpu or mps."""
    dtype: str = "auto"
    """auto, float32, float16 or bfloat16."""
    quantization: str = "none"
    """none, int8, int4 or nf4 (CUDA)."""
    trust_remote_code: bool = False
    """Run the repo's own Python code. Only for repos you trust."""
    adapters: list[str] = field(default_factory=list)
    """LoRA/PEFT adapter paths."""
    n_ctx: Annotated[int, Meta(ge=256)] = 4096
    """llama.cpp context length."""
    n_gpu_layers: int = -1
    """llama.cpp layers on the GPU; -1 all."""
    thinking: bool = True
    """A reasoning model thinks before it answers; false asks it not to, where its chat
    template (enable_thinking: Qwen3, SmolLM3...) or its server (reasoning effort) allows."""


class ImageSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """Image generation: where pictures go, and how image models share memory."""

    outputs_dir: Path | None = None
    """Folder for generated PNGs (one subfolder per day); default: <data dir>/images."""
    memory_saver: str = "none"
    """CUDA only: none, offload (model CPU offload) or sequential-offload (slowest, least VRAM)."""
    vae_tiling: bool = False
    """CUDA only: decode big images in tiles."""
    unload_chat_model: str = "ask"
    """On a GPU that cannot hold both: ask, always or never unload the chat model before
    loading an image model."""
    base_pipelines: dict[str, str] = field(default_factory=dict)
    """GGUF transformer path -> the diffusers repo or folder it belongs in."""
    default_negative_prompt: str = ""
    """Pre-filled negative prompt."""
    live_preview: bool = True
    """Show a rough picture every few steps while an image is made (costs the UI a redraw each
    time; turn off on a slow machine)."""
    renderer: str = "auto"
    """How pictures are drawn: auto (Kitty graphics or Sixel when the terminal answers, else
    colour half-cells), halfcell, unicode, sixel or kitty."""

    def resolved_outputs_dir(self) -> Path:
        if self.outputs_dir is not None:
            return Path(self.outputs_dir).expanduser()
        from backends.paths import data_dir

        return data_dir() / "images"


class SpeechSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """Speech to text with faster-whisper (the Speech screen and push-to-talk)."""

    model: str | None = None
    """Speech model key or folder; else the first one found."""
    device: str = "auto"
    """auto, cpu or cuda."""
    compute_type: str = "default"
    """default (int8 on CPU, float16 on CUDA), int8, int8_float16, float16, float32."""
    language: str = "auto"
    """auto-detect, or a code such as en, de."""
    translate: bool = False
    """Translate the speech into English."""
    vad_filter: bool = False
    """Skip silence (Silero VAD) first."""
    beam_size: Annotated[int, Meta(ge=1, le=20)] = 5
    """Beam search width."""
    cpu_threads: Positive | None = None
    """CPU threads for decoding; unset: cores - 1."""

    def load_options(self) -> SpeechLoadOptions:
        from backends.speech.protocol import SpeechLoadOptions

        return SpeechLoadOptions(
            device=self.device,  # type: ignore[arg-type]
            compute_type=self.compute_type,  # type: ignore[arg-type]
            cpu_threads=self.cpu_threads,
        )

    def transcribe_options(self) -> TranscribeOptions:
        from backends.speech.protocol import TranscribeOptions

        return TranscribeOptions(
            language=None if self.language in ("", "auto") else self.language,
            task="translate" if self.translate else "transcribe",
            vad_filter=self.vad_filter,
            beam_size=self.beam_size,
        )


class TtsSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """Text to speech: the chat's read-aloud, the voice loop and the Speak tab."""

    model: str | None = None
    """Text-to-speech model key, repo id, name or folder (or "openai_tts:<server>/<model>" for a
    server's voice); else the first one found."""
    voice: str | None = None
    """Voice id, e.g. af_heart (Kokoro) or alba (Pocket TTS, which also takes the path of a
    short WAV to clone); else the model's best English voice."""
    speed: Annotated[float, Meta(ge=0.5, le=2.0)] = 1.0
    """Speaking pace, 0.5 to 2 (1 is natural; Pocket TTS speaks at 1 only)."""
    output_dir: Path | None = None
    """Folder for the WAV files written when there is no sound output; default:
    <data dir>/speech."""
    read_aloud: bool = False
    """Read every answer aloud as it streams from the start (alt+a toggles it)."""
    voice_loop_send: Literal["send", "edit"] = "send"
    """After F8 push-to-talk in the chat: send the words at once (send) or leave them in the
    prompt to edit (edit). Either way the answer is read aloud."""

    def resolved_output_dir(self) -> Path:
        if self.output_dir is not None:
            return Path(self.output_dir).expanduser()
        from backends.paths import data_dir

        return data_dir() / "speech"


class McpServerEntry(Struct, kw_only=True, forbid_unknown_fields=True):
    """An MCP server whose tools the chat model may call: a command (stdio) or a url."""

    name: str
    """Short name, shown with every call of its tools."""
    command: str | None = None
    """Program to run for a stdio server, e.g. "uvx" or "npx"."""
    args: list[str] = field(default_factory=list)
    """Its arguments."""
    env: dict[str, str] = field(default_factory=dict)
    """Environment variables it needs (it gets a minimal environment besides these)."""
    url: str | None = None
    """A streamable-HTTP server's URL instead of a command, e.g. http://127.0.0.1:8000/mcp."""
    enabled: bool = True
    """False: keep the entry but do not start it."""

    def to_config(self) -> McpServerConfig:
        from backends.tools.mcp_config import McpServerConfig

        return McpServerConfig(
            name=self.name,
            command=self.command,
            args=tuple(self.args),
            env=dict(self.env),
            url=self.url,
        )


class ToolSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """Tools the chat model may call; every call is shown and asks before it runs."""

    enabled: bool = True
    """Offer tools to models that can call them."""
    allowed_folders: list[Path] = field(default_factory=list)
    """Folders read_file and list_directory may look into (symlinks are resolved first);
    none: the file tools refuse every path."""
    max_rounds: Annotated[int, Meta(ge=1, le=50)] = 5
    """Tool rounds per answer before the app stops the model calling more."""
    call_timeout_s: Annotated[float, Meta(gt=0.0)] = 30.0
    """How long a tool call may take before it is given up as hung."""


class Settings(Struct, kw_only=True, forbid_unknown_fields=True):
    """localai-tui settings. Every field can be set in config.toml or as LOCALAI_TUI_<FIELD>."""

    model_dirs: list[Path] = field(default_factory=list)
    """Folders searched (recursively) for .gguf files."""
    servers: list[ServerEntry] = field(default_factory=list)
    """Servers whose models are used: OpenAI-compatible, a1111 or comfyui."""
    sampling: SamplingDefaults = field(default_factory=SamplingDefaults)
    """Default sampling parameters."""
    system_prompt: str = ""
    """System prompt for new conversations."""
    image_max_side: NonNegative = DEFAULT_IMAGE_MAX_SIDE
    """Pictures in a chat go to the model scaled down to this many pixels on their longest side
    (the stored copy keeps its size); 0 sends them as they are."""
    models: dict[str, ModelOverrides] = field(default_factory=dict)
    """Per-model load options, keyed by model key."""
    default_model: str | None = None
    """Model key (or GGUF path) loaded at start."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id -> keys, e.g. {'app.pick_model' = 'f2'}."""
    images: ImageSettings = field(default_factory=ImageSettings)
    """Image generation settings."""
    theme: str = "textual-dark"
    """Textual theme name."""
    offline: bool = False
    """Never touch the network (like --offline)."""
    hf_endpoint: str | None = None
    """Hub endpoint (else HF_ENDPOINT)."""
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    """Speech to text (faster-whisper)."""
    tts: TtsSettings = field(default_factory=TtsSettings)
    """Text to speech (Kokoro, or a server's /v1/audio/speech)."""
    tools: ToolSettings = field(default_factory=ToolSettings)
    """Tools the chat model may call (the app's own and MCP servers')."""
    mcp_servers: list[McpServerEntry] = field(default_factory=list)
    """MCP servers whose tools the chat model may call (needs the `tools` extra)."""

    @classmethod
    def from_sources(
        cls, toml_file: Path, environ: Mapping[str, str], overrides: Mapping[str, Any]
    ) -> Settings:
        """Validate the TOML file, env vars and overrides merged (later ones win)."""
        where = str(toml_file)
        merged = read_toml(toml_file)
        from_env, env_sources = env_values(cls, environ, where)
        deep_update(merged, from_env)
        deep_update(merged, overrides)
        return validated(cls, merged, where=where, env_sources=env_sources)

    def thinks(self, key: str) -> bool:
        """Whether the model with this key may think before it answers (see ModelOverrides)."""
        overrides = self.models.get(key)
        return overrides.thinking if overrides is not None else True

    def load_options_for(self, key: str) -> LoadOptions:
        from backends.base import LoadOptions

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

    Raises SettingsError (a ValueError) naming each bad field and its value, or the TOML
    parser's error with its line, when they are not valid.
    """
    return Settings.from_sources(path or config_file(), os.environ, overrides)


StructT = TypeVar("StructT", bound=Struct)


def validated(
    cls: type[StructT],
    data: Mapping[str, Any],
    *,
    where: str = "",
    env_sources: Mapping[Loc, str] | None = None,
) -> StructT:
    """`data` (TOML tables, env var text, typed input) as a `cls`, checked and coerced
    ("0.5" -> 0.5, 512.0 -> 512); SettingsError naming every bad value otherwise."""
    try:
        return _convert(dict(data), cls)
    except msgspec.ValidationError:
        problems = find_problems(dict(data), cls, _convert, env_sources)
        raise SettingsError(where or f"the {cls.__name__}", problems) from None


def _convert(data: Any, annotation: Any) -> Any:
    return msgspec.convert(data, annotation, strict=False, dec_hook=_decode_path)


def _decode_path(annotation: Any, value: Any) -> Any:
    """msgspec has no Path type: a string (or a Path given in code) becomes one."""
    if annotation is Path and isinstance(value, str | Path):
        return Path(value)
    raise ValueError("expected a path in quotes")
