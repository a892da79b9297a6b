"""What an OpenAI-compatible server lists at `/models`, and which of it a load picks.

Split from openai_compat.py (the engine): the listing is also what the model picker shows
(`list_models`), and a load checks the model asked for against it.
"""

from __future__ import annotations

from typing import Any

import httpx

from backends.base import ServerConfig
from backends.chat.openai_errors import http_error, unreachable_error
from backends.errors import ServerError, UnsupportedModel

LIST_TIMEOUT_S = 3.0


def list_models(server: ServerConfig, timeout: float = LIST_TIMEOUT_S) -> list[str]:
    """The model ids the server offers, sorted; BackendError subclasses on failure."""
    with make_client(server, timeout) as client:
        return sorted(fetch_listing(client, server)[0])


def make_client(server: ServerConfig, timeout: float) -> httpx.Client:
    """The server's client (key, extra headers, private CA, connect retries: one recipe for
    every remote engine, backends/remote/http.py) with `timeout` for the first requests."""
    from backends.remote.http import make_client as make_remote_client

    return make_remote_client(server, timeout_s=timeout)


def fetch_listing(client: httpx.Client, server: ServerConfig) -> tuple[list[str], Any]:
    """The model ids `/models` lists, and the whole answer (for what it says of them)."""
    try:
        response = client.get("models")
    except httpx.TransportError as error:
        raise unreachable_error(server, error) from error
    if response.status_code == 404 and not server.base_url.rstrip("/").endswith("/v1"):
        raise ServerError(
            f"{server.base_url} has no /models endpoint. OpenAI-compatible servers "
            f"usually live under /v1: try {server.base_url.rstrip('/')}/v1."
        )
    if response.status_code >= 400:
        raise http_error(response, server, None)
    try:
        payload = response.json()
        data = payload.get("data") or []
        ids = [str(entry["id"]) for entry in data if isinstance(entry, dict) and "id" in entry]
        return ids, payload
    except (ValueError, AttributeError) as error:
        raise ServerError(
            f"{server.name} answered /models with something that is not an OpenAI model "
            "list. Check that the URL points at an OpenAI-compatible API."
        ) from error


def pick_model(wanted: str | None, available: list[str], server: ServerConfig) -> str:
    """`wanted` as the server lists it (Ollama adds ":latest"); the only model when none
    is asked for; UnsupportedModel naming what it offers otherwise."""
    if wanted is None:
        if len(available) == 1:
            return available[0]
        raise UnsupportedModel(
            f"Pick a model: {server.name} offers {_offer(available)}.",
            title="Choose a model",
        )
    if wanted in available:
        return wanted
    if f"{wanted}:latest" in available:  # Ollama lists tags
        return f"{wanted}:latest"
    raise UnsupportedModel(
        f"{server.name} does not serve {wanted!r}. It offers {_offer(available)}. "
        "Pick one of those, or load the model on the server first."
    )


def _offer(models: list[str]) -> str:
    if not models:
        return "no models at all"
    shown = ", ".join(sorted(models)[:8])
    more = len(models) - 8
    return shown + (f" and {more} more" if more > 0 else "")
