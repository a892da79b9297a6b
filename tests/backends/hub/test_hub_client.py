"""HubClient construction from settings, token hygiene, and import hygiene of the hub modules."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backends.hub.client import HubClient, default_cache_dir
from backends.settings import load_settings


def test_from_settings_takes_endpoint_token_offline(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secretFROMenv123")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    settings = load_settings(hf_endpoint="http://127.0.0.1:1234/", offline=True)
    client = HubClient.from_settings(settings)
    assert client.endpoint == "http://127.0.0.1:1234"
    assert client.offline and client.has_token
    assert client.cache_dir == tmp_path / "cache" == default_cache_dir()
    assert "hf_secretFROMenv123" not in repr(client)
    online = HubClient.from_settings(load_settings(), offline=False)
    assert online.endpoint == "http://127.0.0.1:9"  # HF_ENDPOINT from the test env
    assert not online.offline


def test_token_goes_only_to_the_endpoint_origin() -> None:
    client = HubClient("http://127.0.0.1:5000", "hf_tok123", False)
    assert client.headers_for("http://127.0.0.1:5000/x")["authorization"] == "Bearer hf_tok123"
    assert "authorization" not in client.headers_for("https://cdn.example.com/blob?sig=1")


@pytest.mark.parametrize(
    "module",
    [
        "backends.hub.client",
        "backends.hub.download_queue",
        "backends.models.cache_inventory",
        "backends.hub.token",
        "backends.models.gguf_quants",
    ],
)
def test_hub_modules_import_nothing_heavy(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "heavy = ('textual', 'rich', 'torch', 'transformers', 'tui'); "
        "bad = [m for m in heavy if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
