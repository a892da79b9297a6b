"""The remote box's state for the gauge, and unloading there, where the server allows it.

- ComfyUI: `GET /system_stats` (each device's VRAM), `POST /free` unloads its models;
- AUTOMATIC1111 / Forge: `GET /sdapi/v1/memory` (CUDA and RAM), `POST /sdapi/v1/unload-checkpoint`;
- Ollama (an openai-kind server): `GET /api/ps` (loaded models and their VRAM), unload by
  `POST /api/generate {"model", "keep_alive": 0}`. Other OpenAI-compatible servers say
  nothing about memory: `read_box_state` returns None for them, and the gauge shows nothing.

Network calls: run them off the UI thread. Errors come back in the state, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from backends.base import ServerConfig
from backends.errors import BackendError, ServerError
from backends.remote.http import PROBE_TIMEOUT_S, check, make_client, send
from backends.remote.probe import root_url


@dataclass(frozen=True)
class RemoteDevice:
    name: str
    vram_total: int
    vram_free: int


@dataclass(frozen=True)
class RemoteBoxState:
    server: str
    kind: str  # "comfyui", "a1111" or "ollama"
    devices: tuple[RemoteDevice, ...] = ()
    loaded: tuple[tuple[str, int], ...] = ()  # (model, bytes of VRAM it holds)
    can_unload: bool = False
    error: str | None = None


def read_box_state(server: ServerConfig) -> RemoteBoxState | None:
    """What the server says about its memory, or None when it says nothing."""
    try:
        with make_client(server, timeout_s=PROBE_TIMEOUT_S) as client:
            if server.kind == "comfyui":
                return _comfyui(client, server)
            if server.kind == "a1111":
                return _a1111(client, server)
            return _ollama(client, server)
    except BackendError as error:
        return RemoteBoxState(server.name, server.kind, error=error.message)


def unload_on_server(server: ServerConfig) -> str:
    """Ask the server to free its models; what happened, in a sentence. ServerError when the
    server has no way to do it."""
    with make_client(server, timeout_s=max(PROBE_TIMEOUT_S, 30.0)) as client:
        if server.kind == "comfyui":
            check(
                send(
                    client,
                    server,
                    "POST",
                    "free",
                    json={"unload_models": True, "free_memory": True},
                ),
                server,
                what="/free",
            )
            return f"{server.name} unloaded its models and freed memory."
        if server.kind == "a1111":
            check(
                send(client, server, "POST", "sdapi/v1/unload-checkpoint"),
                server,
                what="/sdapi/v1/unload-checkpoint",
            )
            return f"{server.name} unloaded its checkpoint."
        state = _ollama(client, server)
        if state is None:
            raise ServerError(
                f"{server.name} has no way to unload models from here (only Ollama, ComfyUI "
                "and AUTOMATIC1111 / Forge do).",
                title="Cannot unload",
            )
        for model, _ in state.loaded:
            response = send(
                client,
                server,
                "POST",
                root_url(server) + "/api/generate",
                json={"model": model, "keep_alive": 0},
            )
            check(response, server, what="/api/generate")
        names = ", ".join(m for m, _ in state.loaded) or "nothing was loaded"
        return f"{server.name} unloaded: {names}."


def _comfyui(client: httpx.Client, server: ServerConfig) -> RemoteBoxState:
    stats = _json(send(client, server, "GET", "system_stats"), server)
    devices = tuple(
        RemoteDevice(
            str(d.get("name", "device")),
            int(d.get("vram_total") or 0),
            int(d.get("vram_free") or 0),
        )
        for d in stats.get("devices") or []
        if isinstance(d, dict) and d.get("type") != "cpu"
    )
    return RemoteBoxState(server.name, "comfyui", devices=devices, can_unload=True)


def _a1111(client: httpx.Client, server: ServerConfig) -> RemoteBoxState:
    memory = _json(send(client, server, "GET", "sdapi/v1/memory"), server)
    cuda = (memory.get("cuda") or {}).get("system") or {}
    devices: tuple[RemoteDevice, ...] = ()
    if cuda.get("total"):
        devices = (RemoteDevice("cuda", int(cuda["total"]), int(cuda.get("free") or 0)),)
    return RemoteBoxState(server.name, "a1111", devices=devices, can_unload=True)


def _ollama(client: httpx.Client, server: ServerConfig) -> RemoteBoxState | None:
    response = send(client, server, "GET", root_url(server) + "/api/ps")
    if response.status_code == 404:
        return None
    ps = _json(response, server)
    loaded = tuple(
        (str(m.get("name") or m.get("model")), int(m.get("size_vram") or 0))
        for m in ps.get("models") or []
        if isinstance(m, dict)
    )
    return RemoteBoxState(server.name, "ollama", loaded=loaded, can_unload=True)


def _json(response: httpx.Response, server: ServerConfig) -> dict[str, Any]:
    check(response, server, what=str(response.request.url.path))
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise ServerError(f"{server.name} sent a memory report this app cannot read.")
    return payload
