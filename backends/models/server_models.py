"""The models configured servers offer, as picker entries and saved keys.

Listing them is a network call (`discover_server_models`, for its own worker); turning a saved
key (`openai:<server>/<model>`, `a1111:<server>/<model>`…) back into a spec is not.
"""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from backends.base import ModelSpec, ServerConfig
from backends.errors import BackendError, ModelNotFound, ServerUnreachable

if TYPE_CHECKING:
    from collections.abc import Mapping

    from backends.remote.probe import ServerCapabilities
    from backends.settings import ServerEntry, Settings

SERVER_KEY_PREFIX = "openai:"  # server model keys: openai:<server name>/<model id>


def server_spec(server: ServerConfig, model: str) -> ModelSpec:
    """A model a server lists. Its name carries the server's: two servers serving "qwen"
    would otherwise read the same in the picker, the chat header and the chat list."""
    return ModelSpec(
        key=f"{SERVER_KEY_PREFIX}{server.name}/{model}",
        name=f"{model} · {server.name}",
        engine="openai",
        source="server",
        server=server,
        remote_model=model,
    )


KNOWN_FRESH_S = 60.0  # a background probe's answer younger than this is used as it is

# The engine that runs each capability a server offers (backends/remote/probe.py).
REMOTE_ENGINES = {
    ("openai", "chat"): "openai",
    ("openai", "vision"): "openai",
    ("openai", "image"): "openai_images",
    ("openai", "speech-to-text"): "openai_stt",
    ("openai", "text-to-speech"): "openai_tts",
    ("openai", "embeddings"): "openai_embeddings",
    ("a1111", "image"): "a1111",
    ("comfyui", "image"): "comfyui",
}


def remote_spec(
    server: ServerConfig, model: str, engine: str, path: str | None = None
) -> ModelSpec:
    """A server's model as the pickers list it; chat keys keep their `openai:` form."""
    if engine == "openai":
        return server_spec(server, model)
    return ModelSpec(
        key=f"{engine}:{server.name}/{model}",
        name=model,
        engine=engine,
        source="server",
        server=server,
        remote_model=model,
        path=path,
    )


def discover_server_models(
    settings: Settings, known: Mapping[str, ServerCapabilities] | None = None
) -> tuple[list[ModelSpec], list[tuple[str, BackendError]]]:
    """Ask each configured server what it offers (network: call from a worker).

    Returns a spec per model and capability (chat, images, speech to text, embeddings;
    ComfyUI workflow files too) and, per unreachable or misconfigured server, its name and
    the error, so one dead server does not hide the others. The servers are asked at the
    same time. With `offline`, only loopback servers are asked. `known` holds recent answers
    (the app's background prober): a server that answered within KNOWN_FRESH_S is not asked
    again.
    """
    from concurrent.futures import ThreadPoolExecutor

    from backends.remote.probe import probe_server

    skipped = [e for e in settings.servers if settings.offline and not is_loopback(e.base_url)]
    entries = [e for e in settings.servers if e not in skipped]
    # Named, not silently left out: the picker says why a configured server is missing.
    refused: list[tuple[str, BackendError]] = [
        (e.name, offline_refusal(e.name, e.base_url)) for e in skipped
    ]
    if not entries:
        return [], refused

    def answer(entry: ServerEntry) -> ServerCapabilities:
        config = entry.to_config()
        recent = (known or {}).get(entry.name)
        fresh = recent is not None and time.time() - recent.probed_at < KNOWN_FRESH_S
        if recent is not None and fresh and recent.up and recent.server == config:
            return recent
        return probe_server(config)

    with ThreadPoolExecutor(max_workers=min(8, len(entries))) as pool:
        results = list(pool.map(answer, entries))
    specs: list[ModelSpec] = []
    failures: list[tuple[str, BackendError]] = list(refused)
    for entry, found in zip(entries, results, strict=True):
        if found.error is not None:
            failures.append((entry.name, found.error))
            continue
        server = found.server
        for model in sorted(found.models, key=lambda m: m.id):
            engine = REMOTE_ENGINES.get((server.kind, model.capability))
            if engine is not None:
                specs.append(remote_spec(server, model.id, engine))
        if server.kind == "comfyui":
            for workflow in entry.workflows:
                path = Path(workflow).expanduser()
                specs.append(remote_spec(server, f"{path.name} (workflow)", "comfyui", str(path)))
    return specs, failures


def offline_refusal(name: str, url: str) -> ServerUnreachable:
    """Why a server off this machine is not asked in offline mode."""
    return ServerUnreachable(
        f"not asked: offline mode is on and {url} is not on this machine. Start without "
        "--offline (or set offline = false) to use it.",
        title=f"{name} skipped (offline)",
    )


def is_loopback(url: str) -> bool:
    """True for a URL on this machine (localhost, 127.0.0.0/8, ::1): offline mode asks it."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def remote_engine_of_key(key: str) -> str | None:
    """The remote engine a saved key names (`a1111:<server>/<model>`…), or None."""
    engine = key.partition(":")[0]
    return engine if engine in set(REMOTE_ENGINES.values()) and ":" in key else None


def remote_model_spec(key: str, settings: Settings) -> ModelSpec | None:
    """The spec a saved remote key names (no request), None for a key that is not remote;
    ModelNotFound when its server is not configured."""
    if remote_engine_of_key(key) is None:
        return None
    return spec_of_server_key(key, settings)


def spec_of_server_key(key: str, settings: Settings) -> ModelSpec:
    """`<engine>:<server>/<model>` (the key the picker saves, `openai:` for chat): no
    request, like a path."""
    engine, _, rest = key.partition(":")
    server_name, _, remote = rest.partition("/")
    for entry in settings.servers:
        if entry.name == server_name and remote:
            return remote_spec(entry.to_config(), remote, engine)
    names = ", ".join(repr(entry.name) for entry in settings.servers) or "none"
    raise ModelNotFound(
        f"{key!r} names a model on a server called {server_name!r}, but the config has no such "
        f"server (configured: {names}). Add it under [[servers]] in the config file "
        "(name and base_url), or pick another model with ctrl+o."
    )
