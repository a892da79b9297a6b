"""Whether a server's model takes images comes from what the server says (llama-server's
/props, a `capabilities` list in /v1/models); where it says nothing, a 4xx to pictures is
explained once and turns vision off. No error answer is POSTed twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import ChatMessage, GenerationParams, ImageAttachment, LoadOptions
from backends.chat.images import ImagesRefused
from backends.chat.openai_compat import OpenAICompatEngine
from backends.chat.openai_modalities import vision_from_listing
from backends.errors import ServerError
from tests.fixtures.images import write_png
from tests.fixtures.openai_server import DEFAULT_MODEL, LocalOpenAIServer

PARAMS = GenerationParams(max_new_tokens=3, seed=1)


@pytest.fixture
def engine() -> Iterator[OpenAICompatEngine]:
    engine = OpenAICompatEngine()
    yield engine
    engine.unload()


def _with_picture(tmp_path: Path) -> list[ChatMessage]:
    png = write_png(tmp_path / "cat.png")
    return [ChatMessage("user", "What is it?", (ImageAttachment(path=str(png)),))]


@pytest.mark.parametrize("says", [True, False])
def test_llama_server_props_decide(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer, says: bool
) -> None:
    openai_server.knobs.props_vision = says
    assert engine.capabilities.vision is False  # nothing loaded yet
    engine.load(openai_server.spec(), LoadOptions())
    assert engine.capabilities.vision is says
    assert "/props" in openai_server.gets
    engine.unload()
    assert engine.capabilities.vision is False


@pytest.mark.parametrize("says", [True, False])
def test_ollama_show_decides(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer, says: bool
) -> None:
    openai_server.knobs.ollama_capabilities = ["completion", "vision"] if says else ["completion"]
    engine.load(openai_server.spec(), LoadOptions())
    assert engine.capabilities.vision is says


@pytest.mark.parametrize(
    ("capabilities", "sees"), [(["completion"], False), (["completion", "multimodal"], True)]
)
def test_the_model_list_decides_where_it_lists_capabilities(
    engine: OpenAICompatEngine,
    openai_server: LocalOpenAIServer,
    capabilities: list[str],
    sees: bool,
) -> None:
    openai_server.knobs.capabilities = capabilities
    openai_server.knobs.props_vision = not sees  # the model's own entry wins
    engine.load(openai_server.spec(), LoadOptions())
    assert engine.capabilities.vision is sees
    assert "/props" not in openai_server.gets


def test_other_listing_shapes() -> None:
    openrouter = {"data": [{"id": "m", "architecture": {"input_modalities": ["text", "image"]}}]}
    assert vision_from_listing(openrouter, "m") is True
    assert vision_from_listing({"data": [{"id": "m", "input_modalities": ["text"]}]}, "m") is False
    assert vision_from_listing({"data": [{"id": "other", "capabilities": ["vision"]}]}, "m") is None
    assert vision_from_listing({"data": [{"id": "m"}]}, "m") is None


def test_unknown_text_only_model_refuses_once_and_nothing_is_posted_twice(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer, tmp_path: Path
) -> None:
    openai_server.knobs.vision = False  # llama-server without an mmproj; /props says nothing
    engine.load(openai_server.spec(), LoadOptions())
    assert engine.capabilities.vision is True  # unknown: pictures may go

    with pytest.raises(ImagesRefused) as caught:
        list(engine.stream(_with_picture(tmp_path), PARAMS))

    assert len(openai_server.requests) == 1  # a 400 is not sent again
    message = caught.value.message
    assert f"{DEFAULT_MODEL} on test did not take the picture (HTTP 400" in message
    assert "no multimodal projector" in message and "reads text only" in message
    assert caught.value.title == "This model cannot see images"
    assert engine.capabilities.vision is False  # from now on the pictures are left out


def test_a_server_that_said_it_sees_is_not_second_guessed(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer, tmp_path: Path
) -> None:
    openai_server.knobs.props_vision = True
    openai_server.knobs.vision = False
    engine.load(openai_server.spec(), LoadOptions())
    with pytest.raises(ServerError, match="HTTP 400"):
        list(engine.stream(_with_picture(tmp_path), PARAMS))
    assert engine.capabilities.vision is True and len(openai_server.requests) == 1


@pytest.mark.parametrize("status", [400, 404, 422, 429])
def test_a_4xx_is_posted_once(
    engine: OpenAICompatEngine, openai_server: LocalOpenAIServer, status: int
) -> None:
    engine.load(openai_server.spec(), LoadOptions())
    openai_server.knobs.chat_status = status
    with pytest.raises(Exception, match=f"HTTP {status}|no longer serves"):
        list(engine.stream([ChatMessage("user", "hi")], PARAMS))
    assert len(openai_server.requests) == 1
