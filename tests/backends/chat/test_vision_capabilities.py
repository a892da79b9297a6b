"""`capabilities.vision` says what the *loaded model* can do, not what its engine class
could: a GGUF sees only with its mmproj, a transformers model only with an image processor,
and an engine in a host process reports its loaded model's capabilities too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from backends import registry
from backends.base import ChatEngine, LoadOptions, ModelSpec
from backends.chat.llama_cpp import LlamaCppEngine
from backends.host.chat_proxy import HostedChatEngine


@pytest.fixture
def engines() -> Iterator[list[ChatEngine]]:
    made: list[ChatEngine] = []
    yield made
    for engine in made:
        engine.unload()


def test_a_gguf_without_its_projector_reads_text_only(tiny_gguf_spec: ModelSpec) -> None:
    engine = LlamaCppEngine()
    assert engine.capabilities.vision is False
    engine.load(tiny_gguf_spec, LoadOptions(n_ctx=256))
    try:
        assert engine.capabilities.vision is False
        assert "n_ctx" in engine.capabilities.load_options
    finally:
        engine.unload()


def test_a_gguf_with_its_projector_sees_until_unloaded(
    tiny_gguf_spec: ModelSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llama_cpp import llama_chat_format

    class Handler:  # libmtmd needs a real CLIP projector; the wiring is what is tested
        def __init__(self, clip_model_path: str, verbose: bool = True) -> None:
            self.path = clip_model_path

        def __call__(self, **kwargs: Any) -> Any:
            raise AssertionError("not called here")

    monkeypatch.setattr(llama_chat_format, "MTMDChatHandler", Handler)
    projector = tmp_path / "mmproj-tiny.gguf"
    projector.write_bytes(b"GGUF")
    engine = LlamaCppEngine()
    engine.load(replace(tiny_gguf_spec, projector=str(projector)), LoadOptions(n_ctx=256))
    assert engine.capabilities.vision is True
    engine.load(tiny_gguf_spec, LoadOptions(n_ctx=256))  # the next model has none
    assert engine.capabilities.vision is False
    engine.unload()
    assert engine.capabilities.vision is False


def test_a_hosted_engine_reports_its_loaded_model(
    engines: list[ChatEngine], tiny_gguf_spec: ModelSpec
) -> None:
    engine = registry.create_engine("llama_cpp")
    assert isinstance(engine, HostedChatEngine)
    engines.append(engine)
    engine.load(tiny_gguf_spec, LoadOptions(n_ctx=256))
    assert engine.capabilities.vision is False
    assert "n_ctx" in engine.capabilities.load_options


@pytest.mark.slow
def test_transformers_sees_with_an_image_processor_only(
    engines: list[ChatEngine], tiny_llava_spec: ModelSpec, tiny_llama_spec: ModelSpec
) -> None:
    engine = registry.create_engine("transformers")
    engines.append(engine)
    engine.load(tiny_llava_spec, LoadOptions())
    assert engine.capabilities.vision is True
    engine.load(tiny_llama_spec, LoadOptions())
    assert engine.capabilities.vision is False
