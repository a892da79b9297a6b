"""One way to talk HTTP to any configured server: auth, TLS, timeouts, and errors a user reads.

Every remote engine (images, speech, embeddings), the capability probe and the remote gauge
build their client here, so a server's key, extra headers, private CA and time limits apply
the same everywhere. Secrets never reach a message: server words go through `redact`.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from backends.base import ServerConfig
from backends.chat.openai_errors import error_text, redact, unreachable_error
from backends.errors import (
    BackendError,
    OutOfMemory,
    ServerError,
    ServerUnreachable,
    UnsupportedModel,
)

CONNECT_RETRIES = 2
PROBE_TIMEOUT_S = 3.0  # a capability probe or a gauge reading: short, it runs in the background
OOM_WORDS = ("out of memory", "outofmemory", "oom", "cuda error: out of memory")


def make_client(server: ServerConfig, *, timeout_s: float | None = None) -> httpx.Client:
    """A client for `server`: its base URL, key, extra headers, CA and time limits.

    `timeout_s` replaces the server's answer limit (probes use a short one). Raises
    ServerError when the CA file cannot be read.
    """
    headers = {"Accept": "application/json"}
    if server.api_key:
        headers["Authorization"] = f"Bearer {server.api_key}"
    headers.update(dict(server.headers))
    verify: ssl.SSLContext | bool = True
    if server.ca_file:
        try:
            verify = ssl.create_default_context(cafile=server.ca_file)
        except (OSError, ssl.SSLError) as error:
            raise ServerError(
                f"The CA file {server.ca_file} for {server.name} cannot be used ({error}). "
                "Fix ca_file in this server's settings.",
                title="TLS settings",
            ) from None
    limit = timeout_s if timeout_s is not None else server.timeout_s
    return httpx.Client(
        base_url=server.base_url.rstrip("/") + "/",
        headers=headers,
        timeout=httpx.Timeout(limit, connect=min(server.connect_timeout_s, limit)),
        # A refused or reset connect is tried again (at once, then after 0.5 s): a server
        # restarting behind a proxy. A request that reached the server is never re-sent.
        transport=httpx.HTTPTransport(verify=verify, retries=CONNECT_RETRIES),
    )


def send(
    client: httpx.Client, server: ServerConfig, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    """One request; a transport failure becomes ServerUnreachable with the reason."""
    try:
        return client.request(method, path.lstrip("/"), **kwargs)
    except httpx.TransportError as error:
        raise transport_error(server, error) from error


def transport_error(server: ServerConfig, error: httpx.TransportError) -> BackendError:
    """ServerUnreachable with the reason; an untrusted certificate names the setting."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return ServerUnreachable(
                f"{server.base_url} has a certificate this machine does not trust "
                f"({cause.verify_message}). If it is signed by your own CA, set ca_file to "
                "that CA's PEM file in this server's settings.",
                title="Certificate not trusted",
            )
        cause = cause.__cause__ or cause.__context__
    return unreachable_error(server, error)


def get_json(client: httpx.Client, server: ServerConfig, path: str, **kwargs: Any) -> Any:
    """GET `path` and its JSON body; HTTP errors and non-JSON answers become BackendErrors."""
    response = send(client, server, "GET", path, **kwargs)
    check(response, server, what=path)
    return json_body(response, server, path)


def json_body(response: httpx.Response, server: ServerConfig, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ServerError(
            f"{server.name} answered {what} with something that is not JSON. Check that "
            f"kind = {server.kind!r} is what this server speaks.",
            title="Unexpected answer",
        ) from None


def server_message(response: httpx.Response, server: ServerConfig) -> str:
    """The server's own words about an error (A1111's `detail`/`errors`, OpenAI's
    `error.message`, ComfyUI's `error.message`), redacted, at most 300 characters."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    text = ""
    if isinstance(payload, dict):
        text = error_text(payload)
        for key in ("errors", "detail", "message"):
            if not text or text in ("OutOfMemoryError", "RuntimeError"):
                value = payload.get(key)
                if isinstance(value, str) and value:
                    text = value
    if not text:
        text = response.text[:300] or response.reason_phrase
    return redact(text, server)[:300]


def check(response: httpx.Response, server: ServerConfig, *, what: str, model: str = "") -> None:
    """Raise the BackendError an HTTP error answer means; nothing for a success.

    Out of memory on the server shows the server's message; 401/403 name the key; 404 on
    a model call says the model is missing.
    """
    if response.status_code < 400:
        return
    if response.status_code in (401, 403):
        from backends.chat.openai_errors import http_error

        raise http_error(response, server, None)
    message = server_message(response, server)
    if is_out_of_memory(message):
        raise OutOfMemory(
            f"{server.name} ran out of memory: {message}. Try a smaller size or fewer "
            "steps, or free memory on the server (unload a model there).",
            title="Out of memory on the server",
        )
    if response.status_code == 404 and model:
        raise UnsupportedModel(
            f"{server.name} does not have {model!r} ({message}). Pick a model the server "
            "lists, or add it on the server.",
            title="Model missing on the server",
        )
    raise ServerError(
        f"{server.name} answered HTTP {response.status_code} to {what}: {message}. Check the "
        "server's log, then try again."
    )


def is_out_of_memory(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in OOM_WORDS)


KIND_LABELS = {
    "openai": "an OpenAI-compatible server",
    "a1111": "AUTOMATIC1111 / Forge",
    "comfyui": "ComfyUI",
}


def wrong_kind(server: ServerConfig, actual: str | None) -> BackendError:
    """The error for a server whose answers do not match its configured kind; `actual` is
    the kind it seems to be, when the probe could tell."""
    said = KIND_LABELS.get(server.kind, repr(server.kind))
    guess = f" It looks like {KIND_LABELS[actual]}: set kind = {actual!r}." if actual else ""
    return ServerError(
        f"{server.name} ({server.base_url}) does not answer like {said}.{guess} Check kind "
        "and base_url under [[servers]] in the config file.",
        title="Wrong server kind",
    )
