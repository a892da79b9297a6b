"""The OpenAI Images API engine against a local server (/v1/images/generations, /edits)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from backends.errors import OutOfMemory, UnsupportedModel
from backends.image.openai_images_engine import OpenAIImagesEngine
from backends.image.protocol import (
    GenerationCancelled,
    ImageLoadOptions,
    ImageRequest,
    ImageResult,
    ImageStep,
)
from tests.fixtures.openai_media_server import OpenAIMediaServer
from tests.fixtures.remote_http import png_bytes


def _loaded(server: OpenAIMediaServer) -> OpenAIImagesEngine:
    engine = OpenAIImagesEngine()
    engine.load(server.spec("sd-turbo", "openai_images"), ImageLoadOptions())
    return engine


def test_no_step_count_means_an_indeterminate_wait(media_server: OpenAIMediaServer) -> None:
    """Without steps from the server, the engine says "working" (total 0), never a bar."""
    events = list(_loaded(media_server).generate(ImageRequest("x", width=96, height=64)))
    steps = [e for e in events if isinstance(e, ImageStep)]
    assert steps and all(s.total == 0 and s.step == 0 for s in steps)
    result = events[-1]
    assert isinstance(result, ImageResult) and result.image.size == (96, 64)
    body = next(b for m, p, _, b in media_server.requests if p == "/v1/images/generations")
    assert body["size"] == "96x64" and body["response_format"] == "b64_json"


def test_an_image_given_as_url_is_fetched(media_server: OpenAIMediaServer) -> None:
    media_server.image_as_url = True
    result = list(_loaded(media_server).generate(ImageRequest("x")))[-1]
    assert isinstance(result, ImageResult) and result.image.size == (32, 32)
    assert "/files/out.png" in media_server.paths("GET")


def test_image_to_image_goes_to_edits(media_server: OpenAIMediaServer, tmp_path: Path) -> None:
    start = tmp_path / "s.png"
    start.write_bytes(png_bytes(16, 16))
    result = list(
        _loaded(media_server).generate(
            ImageRequest("x", init_image=str(start), width=48, height=48)
        )
    )[-1]
    assert isinstance(result, ImageResult) and result.image.size == (48, 48)
    assert "/v1/images/edits" in media_server.paths("POST")


def test_cancel_returns_at_once(media_server: OpenAIMediaServer) -> None:
    media_server.hold_image = True
    cancel = threading.Event()
    with pytest.raises(GenerationCancelled):
        for _ in _loaded(media_server).generate(ImageRequest("x"), cancel):
            assert media_server.holding.wait(5)
            cancel.set()


def test_out_of_memory_shows_the_servers_message(media_server: OpenAIMediaServer) -> None:
    media_server.oom = True
    with pytest.raises(OutOfMemory, match="CUDA error: out of memory"):
        list(_loaded(media_server).generate(ImageRequest("x")))


def test_a_chat_model_is_not_an_image_model(media_server: OpenAIMediaServer) -> None:
    with pytest.raises(UnsupportedModel, match="does not have 'tiny-chat'"):
        OpenAIImagesEngine().load(
            media_server.spec("tiny-chat", "openai_images"), ImageLoadOptions()
        )


def test_a_server_refusing_response_format_is_asked_again_without(
    media_server: OpenAIMediaServer,
) -> None:
    media_server.reject_response_format = True
    result = list(_loaded(media_server).generate(ImageRequest("x")))[-1]
    assert isinstance(result, ImageResult) and result.image.size == (32, 32)
    bodies = [b for m, p, _, b in media_server.requests if p == "/v1/images/generations"]
    assert "response_format" in bodies[0] and "response_format" not in bodies[1]
