"""What a server offers, asked the way its kind answers (network: call from a worker).

- openai: `GET /v1/models` (each model sorted into chat, image, speech-to-text, text-to-speech
  or embeddings by the type the server gives, else by its name), and llama-server's `/props`
  `modalities` (a vision projector makes its chat model a vision one);
- a1111: `/sdapi/v1/sd-models`, `/sdapi/v1/samplers`, `/sdapi/v1/loras`;
- comfyui: `/object_info/CheckpointLoaderSimple` and `/object_info/KSampler` (the parts of
  `/object_info` we use; the whole of it is megabytes), and `/system_stats`.

A server that answers like another kind gets a "wrong kind" error naming the kind it seems
to be. Failures come back inside the result (`error`), never raised, so one dead server does
not hide the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from backends.base import SERVER_KINDS, ModelSpec, ServerConfig
from backends.errors import BackendError, ServerError, UnsupportedModel
from backends.remote.http import PROBE_TIMEOUT_S, get_json, make_client, send, wrong_kind

Capability = Literal["chat", "vision", "image", "speech-to-text", "text-to-speech", "embeddings"]


@dataclass(frozen=True)
class RemoteModel:
    id: str  # what the server calls it (an A1111 checkpoint title, a ComfyUI ckpt_name)
    capability: Capability


@dataclass(frozen=True)
class ServerCapabilities:
    """One probe's answer. `error` set: the server is down or not what its kind says."""

    server: ServerConfig
    models: tuple[RemoteModel, ...] = ()
    samplers: tuple[str, ...] = ()
    schedulers: tuple[str, ...] = ()
    loras: tuple[str, ...] = ()
    modalities: frozenset[str] = frozenset()  # llama-server /props: {"vision"} with a projector
    error: BackendError | None = field(default=None, compare=False)
    probed_at: float = field(default_factory=time.time, compare=False)

    @property
    def up(self) -> bool:
        return self.error is None

    def with_capability(self, *capabilities: Capability) -> list[RemoteModel]:
        return [m for m in self.models if m.capability in capabilities]


def probe_server(server: ServerConfig, timeout_s: float = PROBE_TIMEOUT_S) -> ServerCapabilities:
    """Ask `server` what it offers; never raises a BackendError (it is in `error`)."""
    if server.kind not in SERVER_KINDS:
        error = ServerError(
            f"{server.name} has kind = {server.kind!r}; use one of {', '.join(SERVER_KINDS)}.",
            title="Unknown server kind",
        )
        return ServerCapabilities(server, error=error)
    try:
        with make_client(server, timeout_s=timeout_s) as client:
            if server.kind == "a1111":
                return _probe_a1111(client, server)
            if server.kind == "comfyui":
                return _probe_comfyui(client, server)
            return _probe_openai(client, server)
    except BackendError as error:
        return ServerCapabilities(server, error=error)


def root_url(server: ServerConfig) -> str:
    """The server's root (an OpenAI base URL ends in /v1; /props and /api/ps live above)."""
    base = server.base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


# -- openai ------------------------------------------------------------------------------------

_NAME_HINTS: tuple[tuple[Capability, tuple[str, ...]], ...] = (
    ("speech-to-text", ("whisper", "parakeet", "canary", "transcribe", "stt")),
    ("text-to-speech", ("tts", "kokoro", "piper", "bark", "speech")),
    ("embeddings", ("embed", "bge-", "minilm", "e5-", "gte-", "nomic-embed", "rerank")),
    ("image", ("stable-diffusion", "sdxl", "sd-", "sd1", "sd3", "flux", "dall-e", "gpt-image")),
)
_TYPE_WORDS: dict[str, Capability] = {
    "embeddings": "embeddings",
    "embedding": "embeddings",
    "vlm": "vision",
    "llm": "chat",
    "image": "image",
    "transcription": "speech-to-text",
    "tts": "text-to-speech",
}


def capability_of(entry: dict[str, Any]) -> Capability:
    """A /v1/models entry's capability: the type the server gives (LM Studio's `type`), else
    the words in its id (there is no standard field; these names are what servers use)."""
    declared = str(entry.get("type") or entry.get("object_type") or "").lower()
    if declared in _TYPE_WORDS:
        return _TYPE_WORDS[declared]
    name = str(entry.get("id", "")).lower()
    for capability, words in _NAME_HINTS:
        if any(word in name for word in words):
            return capability
    return "chat"


def _probe_openai(client: httpx.Client, server: ServerConfig) -> ServerCapabilities:
    response = send(client, server, "GET", "models")
    if response.status_code == 404:
        raise _wrong_kind_or(
            server,
            client,
            ServerError(
                f"{server.base_url} has no /models endpoint. OpenAI-compatible servers usually "
                f"live under /v1: try {server.base_url.rstrip('/')}/v1."
            ),
        )
    from backends.remote.http import check, json_body

    check(response, server, what="/models")
    payload = json_body(response, server, "/models")
    entries = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        raise wrong_kind(server, None)
    from backends.chat.openai_modalities import vision_from_listing, vision_from_props

    props_vision = vision_from_props(client, server.base_url)  # llama-server's projector
    models = []
    for entry in entries:
        if not isinstance(entry, dict) or "id" not in entry:
            continue
        capability = capability_of(entry)
        if capability == "chat":
            said = vision_from_listing(payload, str(entry["id"]))
            if said or (said is None and props_vision):
                capability = "vision"
        models.append(RemoteModel(str(entry["id"]), capability))
    modalities = frozenset({"vision"}) if props_vision else frozenset()
    return ServerCapabilities(server, models=tuple(models), modalities=modalities)


# -- a1111 -------------------------------------------------------------------------------------


def _probe_a1111(client: httpx.Client, server: ServerConfig) -> ServerCapabilities:
    response = send(client, server, "GET", "sdapi/v1/sd-models")
    if response.status_code == 404:
        raise _wrong_kind_or(server, client, wrong_kind(server, None))
    from backends.remote.http import check, json_body

    check(response, server, what="/sdapi/v1/sd-models")
    checkpoints = json_body(response, server, "/sdapi/v1/sd-models")
    if not isinstance(checkpoints, list):
        raise wrong_kind(server, None)
    samplers = _names(get_json(client, server, "sdapi/v1/samplers"), "name")
    loras: list[str] = []
    lora_answer = send(client, server, "GET", "sdapi/v1/loras")
    if lora_answer.status_code == 200:  # Forge without the LoRA extension has none
        loras = _names(lora_answer.json(), "name")
    models = [RemoteModel(str(c.get("title") or c.get("model_name")), "image") for c in checkpoints]
    return ServerCapabilities(
        server, models=tuple(models), samplers=tuple(samplers), loras=tuple(loras)
    )


def _names(payload: Any, key: str) -> list[str]:
    if not isinstance(payload, list):
        return []
    return [str(item[key]) for item in payload if isinstance(item, dict) and key in item]


# -- comfyui -----------------------------------------------------------------------------------


def comfyui_choices(info: Any, node: str, name: str) -> list[str]:
    """The choices of a node input in /object_info (`input.required.<name>[0]`)."""
    try:
        choices = info[node]["input"]["required"][name][0]
    except (KeyError, IndexError, TypeError):
        return []
    return [str(c) for c in choices] if isinstance(choices, list) else []


def _probe_comfyui(client: httpx.Client, server: ServerConfig) -> ServerCapabilities:
    response = send(client, server, "GET", "system_stats")
    if response.status_code == 404:
        raise _wrong_kind_or(server, client, wrong_kind(server, None))
    from backends.remote.http import check, json_body

    check(response, server, what="/system_stats")
    stats = json_body(response, server, "/system_stats")
    if not isinstance(stats, dict) or "system" not in stats:
        raise wrong_kind(server, None)
    checkpoints = get_json(client, server, "object_info/CheckpointLoaderSimple")
    sampler = get_json(client, server, "object_info/KSampler")
    loras: list[str] = []
    lora_answer = send(client, server, "GET", "object_info/LoraLoader")
    if lora_answer.status_code == 200:  # a core node, but a trimmed server may lack it
        loras = comfyui_choices(
            json_body(lora_answer, server, "/object_info"), "LoraLoader", "lora_name"
        )
    models = [
        RemoteModel(name, "image")
        for name in comfyui_choices(checkpoints, "CheckpointLoaderSimple", "ckpt_name")
    ]
    return ServerCapabilities(
        server,
        models=tuple(models),
        samplers=tuple(comfyui_choices(sampler, "KSampler", "sampler_name")),
        schedulers=tuple(comfyui_choices(sampler, "KSampler", "scheduler")),
        loras=tuple(loras),
    )


# -- which kind is it, really? ----------------------------------------------------------------

_SIGNATURES = (
    ("a1111", "/sdapi/v1/options"),
    ("comfyui", "/system_stats"),
    ("openai", "/v1/models"),
)


def _wrong_kind_or(
    server: ServerConfig, client: httpx.Client, fallback: BackendError
) -> BackendError:
    """A "wrong kind" error naming what the server is, when another kind's route answers."""
    root = root_url(server)
    for kind, path in _SIGNATURES:
        if kind == server.kind:
            continue
        try:
            if client.get(root + path).status_code == 200:
                return wrong_kind(server, kind)
        except httpx.HTTPError:
            continue
    return fallback


# -- loading a server's model ---------------------------------------------------------------


def server_of(spec: ModelSpec, kind: str) -> ServerConfig:
    """The spec's server (`kind` is the engine's, for the message); UnsupportedModel when
    the spec has none. A server of another kind is found out by the probe."""
    if spec.server is None:
        raise UnsupportedModel(
            f"{spec.name} has no server. Add a {kind} server under [[servers]] in the config "
            "file and pick one of its models."
        )
    return spec.server


def probe_for_load(
    spec: ModelSpec, kind: str, capabilities: tuple[Capability, ...] = ("image",)
) -> tuple[ServerConfig, ServerCapabilities, str]:
    """Probe the spec's server; raise its error (down, wrong kind) or "model missing".

    Returns the server, what it offers, and the model id to send.
    """
    server = server_of(spec, kind)
    offered = probe_server(server, timeout_s=min(server.timeout_s, 10.0))
    if offered.error is not None:
        raise offered.error
    wanted = spec.remote_model or spec.name
    names = [m.id for m in offered.with_capability(*capabilities)]
    if wanted not in names:
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        raise UnsupportedModel(
            f"{server.name} does not have {wanted!r}. It offers {shown or 'no such models'}. "
            "Pick one of those, or add the model on the server.",
            title="Model missing on the server",
        )
    return server, offered, wanted
