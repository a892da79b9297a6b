"""Server answers and transport failures, turned into errors a user can act on.

Never shows an API key: servers sometimes echo the key they rejected, so messages built
from a server's words go through `redact`.
"""

from __future__ import annotations

from typing import Any

import httpx

from backends.base import ServerConfig
from backends.chat.images import ImagesRefused
from backends.errors import (
    GenerationError,
    ServerError,
    ServerUnreachable,
    UnsupportedModel,
)


def http_error(response: httpx.Response, server: ServerConfig, model: str | None) -> Exception:
    """The error for an HTTP error answer; `model` set when a chat request got it."""
    status = response.status_code
    if status in (401, 403):
        if server.api_key:
            return ServerError(
                f"{server.name} rejected the API key (HTTP {status}). "
                "Check the key in this server's settings.",
                title="API key rejected",
            )
        return ServerError(
            f"{server.name} needs an API key (HTTP {status}). Add one in this server's settings.",
            title="API key needed",
        )
    detail = redact(error_text(_json_or_none(response)) or response.text[:200], server)
    if status == 404 and model is not None:
        return UnsupportedModel(
            f"{server.name} no longer serves {model!r} ({detail}). "
            "Reload the model list and pick another."
        )
    return ServerError(
        f"{server.name} answered HTTP {status}: {detail or response.reason_phrase}. "
        "Check the server's log, then try again."
    )


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def error_text(payload: Any) -> str:
    """The message of an OpenAI-style error body ({"error": {"message": ...}} or a string)."""
    if not isinstance(payload, dict):
        return ""
    error = payload.get("error", payload)
    if isinstance(error, dict):
        return str(error.get("message") or error.get("detail") or "")
    return str(error)


def redact(text: str, server: ServerConfig) -> str:
    """Servers sometimes echo the key (or an auth header) they rejected; never show it."""
    secrets = [server.api_key, *(value for _, value in server.headers)]
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, "***")
    return text.strip()


def dropped_error(server: ServerConfig, chunks: int, error: Exception | None) -> GenerationError:
    why = f" ({_reason(error)})" if error is not None else ""
    return GenerationError(
        f"The connection to {server.name} dropped after {chunks} tokens{why}. "
        "The partial answer is kept; check that the server is still running and try again.",
        title="Connection lost",
    )


def _reason(error: Exception) -> str:
    cause: BaseException | None = error
    while cause is not None:  # the OS error says it best: "Connection refused"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
        cause = cause.__cause__ or cause.__context__
    return str(error) or type(error).__name__


def unreachable_error(server: ServerConfig, error: httpx.TransportError) -> ServerUnreachable:
    if isinstance(error, httpx.TimeoutException):
        reason = f"no answer within {_seconds(error)}"
    else:
        reason = _reason(error)
    return ServerUnreachable(f"Cannot reach {server.base_url} ({reason}). Is the server running?")


def _seconds(error: httpx.TimeoutException) -> str:
    timeout = error.request.extensions.get("timeout", {}) if error.request else {}
    values = [v for v in timeout.values() if v] if isinstance(timeout, dict) else []
    return f"{min(values):g} s" if values else "the time limit"


def images_refused(
    model: str, server: ServerConfig, status: int, error: Exception
) -> ImagesRefused:
    """A server that refused a message for its pictures: the model reads text only."""
    return ImagesRefused(
        f"{model} on {server.name} did not take the picture (HTTP {status}: {error}). "
        "It reads text only: your message is back in the prompt, unsent. Remove the "
        "pictures (shift+F9) to send the text alone, or pick a vision model (ctrl+o); "
        "earlier pictures in this chat are left out from now on."
    )
