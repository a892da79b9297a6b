"""The remote box's memory and unloading, per kind, against local servers."""

from __future__ import annotations

from backends.remote.box_state import read_box_state, unload_on_server
from tests.fixtures.a1111_server import A1111TestServer
from tests.fixtures.comfyui_server import ComfyUITestServer
from tests.fixtures.openai_media_server import OpenAIMediaServer
from tests.fixtures.openai_server import LocalOpenAIServer

GIB = 1024**3


def test_comfyui_vram_and_free(comfyui_server: ComfyUITestServer) -> None:
    state = read_box_state(comfyui_server.server_config())
    assert state is not None and state.devices[0].vram_total == 24 * GIB
    assert state.devices[0].vram_free == 10 * GIB
    assert "unloaded" in unload_on_server(comfyui_server.server_config())
    assert comfyui_server.freed


def test_a1111_memory_and_unload(a1111_server: A1111TestServer) -> None:
    state = read_box_state(a1111_server.server_config())
    assert state is not None and (state.devices[0].vram_total, state.devices[0].vram_free) == (
        8 * GIB,
        3 * GIB,
    )
    unload_on_server(a1111_server.server_config())
    assert not a1111_server.checkpoint_loaded


def test_ollama_loaded_models_and_keep_alive_zero(media_server: OpenAIMediaServer) -> None:
    state = read_box_state(media_server.server_config())
    assert state is not None and state.loaded == (("tiny-chat", 800_000_000),)
    assert unload_on_server(media_server.server_config()) == "lab unloaded: tiny-chat."
    assert media_server.loaded_models == []


def test_a_server_that_says_nothing_shows_nothing(openai_server: LocalOpenAIServer) -> None:
    assert read_box_state(openai_server.server_config()) is None


def test_a_down_box_reports_why(a1111_server: A1111TestServer) -> None:
    config = a1111_server.server_config()
    a1111_server.close()
    state = read_box_state(config)
    assert state is not None and state.error is not None and "Cannot reach" in state.error
