"""llama.cpp vision wiring: a GGUF's mmproj is found beside it, loaded through llama-cpp-python's
multimodal chat handler, and images reach that handler as image_url data URLs.

No tiny model + projector pair can be written here (libmtmd needs a real CLIP projector
GGUF), so the handler is a stand-in: the test loads the real tiny GGUF with the real
`Llama`, and checks what `create_chat_completion` hands to the handler and what streams back.
"""

from __future__ import annotations

import base64
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from backends.base import (
    ChatMessage,
    GenerationParams,
    ImageAttachment,
    LoadOptions,
    ModelSpec,
    StreamFinished,
    TextDelta,
)
from backends.chat.llama_cpp import LlamaCppEngine
from backends.errors import ModelNotFound, UnsupportedOption
from backends.models.catalog import scan_model_dirs
from tests.fixtures.images import write_png

PARAMS = GenerationParams(temperature=0.0, max_new_tokens=8)


class FakeProjectorHandler:
    """Records how llama-cpp-python calls a multimodal chat handler; streams 3 words."""

    instances: list[FakeProjectorHandler] = []

    def __init__(self, clip_model_path: str, verbose: bool = True) -> None:
        self.clip_model_path = clip_model_path
        self.calls: list[dict[str, Any]] = []
        FakeProjectorHandler.instances.append(self)

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        assert kwargs["stream"] is True

        def chunks() -> Any:
            for word in ("A", " red", " square"):
                yield {"choices": [{"delta": {"content": word}, "finish_reason": None}]}
            yield {"choices": [{"delta": {}, "finish_reason": "stop"}]}

        return chunks()


@pytest.fixture
def fake_handler(monkeypatch: pytest.MonkeyPatch) -> type[FakeProjectorHandler]:
    from llama_cpp import llama_chat_format

    FakeProjectorHandler.instances = []
    monkeypatch.setattr(llama_chat_format, "MTMDChatHandler", FakeProjectorHandler)
    return FakeProjectorHandler


def test_the_projector_beside_a_gguf_is_found(tmp_path: Path, tiny_gguf_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(tiny_gguf_path, folder / "vlm-Q4_K_M.gguf")
    (folder / "mmproj-vlm-f16.gguf").write_bytes(b"GGUF")
    (folder / "text-only").mkdir()
    shutil.copy(tiny_gguf_path, folder / "text-only" / "plain.gguf")

    specs = {Path(s.path or "").name: s for s in scan_model_dirs([folder])}

    assert set(specs) == {"vlm-Q4_K_M.gguf", "plain.gguf"}  # the projector is no model
    assert specs["vlm-Q4_K_M.gguf"].projector == str(folder / "mmproj-vlm-f16.gguf")
    assert specs["plain.gguf"].projector is None


def test_images_go_through_the_multimodal_handler(
    tiny_gguf_spec: ModelSpec, fake_handler: type[FakeProjectorHandler], tmp_path: Path
) -> None:
    projector = tmp_path / "mmproj-tiny.gguf"
    projector.write_bytes(b"GGUF")
    png = write_png(tmp_path / "red.png")
    engine = LlamaCppEngine()
    engine.load(replace(tiny_gguf_spec, projector=str(projector)), LoadOptions(n_ctx=256))
    try:
        assert engine._llm is not None and engine._llm.chat_handler is fake_handler.instances[0]
        assert fake_handler.instances[0].clip_model_path == str(projector)
        asked = [
            ChatMessage("system", "Be brief."),
            ChatMessage("user", "What is it?", (ImageAttachment(path=str(png)),)),
        ]
        events = list(engine.stream(asked, PARAMS))
        text_only = list(engine.stream([ChatMessage("user", "hi")], PARAMS))
    finally:
        engine.unload()

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "A red square"
    finished = events[-1]
    assert isinstance(finished, StreamFinished) and finished.finish_reason == "stop"
    call = fake_handler.instances[0].calls[0]
    assert call["max_tokens"] == 8
    user = call["messages"][-1]
    assert user["content"][0]["type"] == "image_url"
    url = user["content"][0]["image_url"]["url"]
    assert url == "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
    assert user["content"][1] == {"type": "text", "text": "What is it?"}
    assert len(fake_handler.instances[0].calls) == 1  # text alone took the normal path
    assert isinstance(text_only[-1], StreamFinished)


def test_without_a_projector_images_are_refused_before_evaluation(
    tiny_gguf_spec: ModelSpec, tmp_path: Path
) -> None:
    png = write_png(tmp_path / "red.png")
    engine = LlamaCppEngine()
    engine.load(tiny_gguf_spec, LoadOptions(n_ctx=256))
    try:
        asked = [ChatMessage("user", "What is it?", (ImageAttachment(path=str(png)),))]
        with pytest.raises(UnsupportedOption, match="no vision projector"):
            list(engine.stream(asked, PARAMS))
    finally:
        engine.unload()


def test_a_missing_projector_file_is_a_clear_load_error(
    tiny_gguf_spec: ModelSpec, tmp_path: Path
) -> None:
    with pytest.raises(ModelNotFound, match="vision projector .* is missing"):
        LlamaCppEngine().load(
            replace(tiny_gguf_spec, projector=str(tmp_path / "gone.gguf")), LoadOptions()
        )
