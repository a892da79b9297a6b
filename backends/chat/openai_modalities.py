"""Whether a server's model takes images, from what the server says where it says it.

Read at load, once:
- `/v1/models` entries, where a server describes them: `capabilities` (llama-server lists
  "multimodal" in its `models` array; Ollama says "vision"), `input_modalities` /
  `architecture.input_modalities` (OpenRouter and others: "text", "image").
- llama-server's `/props` (beside `/v1`, not under it): `modalities: {"vision": bool}`.
- Ollama's `POST /api/show {"model": ...}`: `capabilities: ["completion", "vision"]`.
None when nothing says: the engine then sends pictures, and a 4xx to a message with
pictures is explained as "this model reads text only" (once; see openai_compat).
"""

from __future__ import annotations

from typing import Any

import httpx

PROPS_TIMEOUT_S = 2.0
_SEEING = {"vision", "multimodal", "image", "images", "image_input"}


def vision_from_listing(payload: Any, model: str) -> bool | None:
    """What a `/v1/models` answer says about `model` taking images; None when it is silent."""
    if not isinstance(payload, dict):
        return None
    entries = [*(payload.get("data") or []), *(payload.get("models") or [])]
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        names = {str(entry.get(k)) for k in ("id", "name", "model") if entry.get(k)}
        if model not in names:
            continue
        said = _entry_vision(entry)
        if said is not None:
            return said
    return None


def _entry_vision(entry: dict[str, Any]) -> bool | None:
    architecture = entry.get("architecture")
    for value in (
        entry.get("input_modalities"),
        (architecture or {}).get("input_modalities") if isinstance(architecture, dict) else None,
        entry.get("capabilities"),
    ):
        if isinstance(value, list):
            return any(str(v).lower() in _SEEING for v in value)
        if isinstance(value, dict) and ("vision" in value or "image" in value):
            return bool(value.get("vision") or value.get("image"))
    return None


def vision_from_props(client: httpx.Client, base_url: str) -> bool | None:
    """llama-server's `/props` says whether a projector is loaded; None elsewhere."""
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        response = client.get(f"{root}/props", timeout=PROPS_TIMEOUT_S)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        modalities = response.json().get("modalities")
    except (ValueError, AttributeError):
        return None
    if isinstance(modalities, dict) and "vision" in modalities:
        return bool(modalities["vision"])
    return None


def vision_from_ollama(client: httpx.Client, base_url: str, model: str) -> bool | None:
    """Ollama's `/api/show` lists a model's capabilities ("vision"); None elsewhere."""
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        response = client.post(f"{root}/api/show", json={"model": model}, timeout=PROPS_TIMEOUT_S)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        capabilities = response.json().get("capabilities")
    except (ValueError, AttributeError):
        return None
    if isinstance(capabilities, list):
        return "vision" in capabilities
    return None


def mentions_images(detail: str) -> bool:
    """A server's error text that is about pictures (llama-server, vLLM, Ollama wordings)."""
    lowered = detail.lower()
    return any(word in lowered for word in ("image", "multimodal", "vision", "mmproj"))
