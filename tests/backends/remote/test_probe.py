"""The capability probe per server kind, against local servers speaking each API."""

from __future__ import annotations

from pathlib import Path

from backends.base import ServerConfig
from backends.remote.probe import capability_of, probe_server
from backends.settings import load_settings
from tests.fixtures.a1111_server import CHECKPOINT as A1111_CHECKPOINT
from tests.fixtures.a1111_server import A1111TestServer
from tests.fixtures.comfyui_server import CHECKPOINT as COMFY_CHECKPOINT
from tests.fixtures.comfyui_server import ComfyUITestServer
from tests.fixtures.openai_media_server import OpenAIMediaServer


def test_openai_models_sorted_by_capability(media_server: OpenAIMediaServer) -> None:
    found = probe_server(media_server.server_config())
    assert found.up
    by_capability = {m.id: m.capability for m in found.models}
    assert by_capability == {
        "tiny-chat": "vision",  # llama-server's /props says it has a vision projector
        "sd-turbo": "image",
        "whisper-1": "speech-to-text",
        "kokoro": "text-to-speech",
        "nomic-embed-text": "embeddings",
    }


def test_a_declared_type_wins_over_the_name() -> None:
    assert capability_of({"id": "whisper-chat", "type": "llm"}) == "chat"
    assert capability_of({"id": "x", "type": "embeddings"}) == "embeddings"


def test_a1111_checkpoints_samplers_and_loras(a1111_server: A1111TestServer) -> None:
    found = probe_server(a1111_server.server_config())
    assert [m.id for m in found.models] == [A1111_CHECKPOINT]
    assert "DPM++ 2M" in found.samplers and found.loras == ("detail-tweaker", "lcm-lora-sdv1.5")


def test_comfyui_checkpoints_and_samplers(comfyui_server: ComfyUITestServer) -> None:
    found = probe_server(comfyui_server.server_config())
    assert [m.id for m in found.models] == [COMFY_CHECKPOINT]
    assert found.samplers == ("euler", "euler_ancestral", "dpmpp_2m")


def test_wrong_kind_names_the_right_one(comfyui_server: ComfyUITestServer) -> None:
    found = probe_server(comfyui_server.server_config(kind="a1111"))
    assert found.error is not None and found.error.title == "Wrong server kind"
    assert "set kind = 'comfyui'" in found.error.message


def test_a_down_server_is_an_error_not_an_exception() -> None:
    found = probe_server(ServerConfig(name="gone", base_url="http://127.0.0.1:9/v1"), 1.0)
    assert not found.up and "Cannot reach" in found.error.message  # type: ignore[union-attr]


def test_the_key_and_headers_are_sent_but_never_shown(media_server: OpenAIMediaServer) -> None:
    media_server.api_key = "sk-secret-123"
    server = media_server.server_config(api_key="sk-secret-123", headers=(("X-Proxy", "tok-9"),))
    assert probe_server(server).up
    _, _, headers, _ = media_server.requests[-1]
    assert headers["X-Proxy"] == "tok-9"
    assert "sk-secret-123" not in repr(server) and "tok-9" not in repr(server)
    wrong = probe_server(media_server.server_config(api_key="sk-wrong-456"))
    assert wrong.error is not None and "sk-wrong-456" not in wrong.error.message


def test_settings_read_kind_auth_tls_and_timeouts(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[[servers]]\nname = "forge"\nbase_url = "https://gpu:7860"\nkind = "a1111"\n'
        'api_key = "k-1234"\nca_file = "~/ca.pem"\ntimeout_s = 120\n'
        '[servers.headers]\n"X-Auth" = "h-5678"\n'
    )
    settings = load_settings(config)
    server = settings.servers[0].to_config()
    assert (server.kind, server.timeout_s, server.headers) == (
        "a1111",
        120.0,
        (("X-Auth", "h-5678"),),
    )
    assert server.ca_file is not None and server.ca_file.endswith("/ca.pem")
    assert "k-1234" not in repr(settings.servers[0]) and "h-5678" not in repr(server)


def test_a_bad_ca_file_is_explained(media_server: OpenAIMediaServer, tmp_path: Path) -> None:
    found = probe_server(media_server.server_config(ca_file=str(tmp_path / "missing.pem")))
    assert found.error is not None and "ca_file" in found.error.message


def test_discovery_lists_each_capability_with_its_engine(
    media_server: OpenAIMediaServer,
    a1111_server: A1111TestServer,
    comfyui_server: ComfyUITestServer,
    tmp_path: Path,
) -> None:
    from backends.models.server_models import discover_server_models

    workflow = tmp_path / "flux.json"
    settings = load_settings(
        servers=[
            {"name": "lab", "base_url": media_server.base_url},
            {"name": "forge", "base_url": a1111_server.root, "kind": "a1111"},
            {
                "name": "comfy",
                "base_url": comfyui_server.root,
                "kind": "comfyui",
                "workflows": [str(workflow)],
            },
            {"name": "gone", "base_url": "http://127.0.0.1:9/v1"},
        ]
    )
    specs, failures = discover_server_models(settings)
    keys = {s.key: s.engine for s in specs}
    assert keys == {
        "openai:lab/tiny-chat": "openai",
        "openai_images:lab/sd-turbo": "openai_images",
        "openai_stt:lab/whisper-1": "openai_stt",
        "openai_embeddings:lab/nomic-embed-text": "openai_embeddings",
        "openai_tts:lab/kokoro": "openai_tts",
        f"a1111:forge/{A1111_CHECKPOINT}": "a1111",
        f"comfyui:comfy/{COMFY_CHECKPOINT}": "comfyui",
        "comfyui:comfy/flux.json (workflow)": "comfyui",
    }
    assert [name for name, _ in failures] == ["gone"]


def test_https_with_a_private_ca(tmp_path: Path) -> None:
    """Without the CA the probe says the certificate is not trusted; with ca_file it works."""
    from tests.fixtures.remote_http import make_test_ca

    ca_file, context = make_test_ca(tmp_path / "tls")
    server = type("TlsMediaServer", (OpenAIMediaServer,), {"tls": context})()
    try:
        assert server.base_url.startswith("https://")
        untrusted = probe_server(server.server_config())
        assert untrusted.error is not None and untrusted.error.title == "Certificate not trusted"
        assert "ca_file" in untrusted.error.message
        trusted = probe_server(server.server_config(ca_file=str(ca_file)))
        assert trusted.up and {m.id for m in trusted.models} >= {"sd-turbo", "whisper-1"}
    finally:
        server.close()


def test_an_unknown_kind_is_a_settings_error_naming_the_field(tmp_path: Path) -> None:
    import pytest

    from backends.settings import SettingsError

    config = tmp_path / "config.toml"
    config.write_text('[[servers]]\nname = "x"\nbase_url = "http://h:1"\nkind = "forge"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(config)
    assert "servers" in str(caught.value) and "kind" in str(caught.value)
    assert "a1111" in str(caught.value)
