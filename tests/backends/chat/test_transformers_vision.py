"""transformers image-text-to-text: a tiny LLaVA answers about an image, streamed; a
text-only model refuses images before generating."""

from __future__ import annotations

from pathlib import Path

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
from backends.chat.transformers import TransformersEngine
from backends.errors import UnsupportedOption
from tests.fixtures.images import write_png

pytestmark = pytest.mark.slow
GREEDY = GenerationParams(temperature=0.0, max_new_tokens=6)


def test_tiny_llava_streams_an_answer_about_an_image(
    tiny_llava_spec: ModelSpec, tmp_path: Path
) -> None:
    png = write_png(tmp_path / "red.png")
    engine = TransformersEngine()
    engine.load(tiny_llava_spec, LoadOptions(device="cpu"))
    try:
        asked = [ChatMessage("user", "What is this?", (ImageAttachment(path=str(png)),))]
        events = list(engine.stream(asked, GREEDY))
        as_bytes = [ChatMessage("user", "And this?", (ImageAttachment(data=png.read_bytes()),))]
        again = list(engine.stream(as_bytes, GREEDY))
    finally:
        engine.unload()

    deltas = [e for e in events if isinstance(e, TextDelta)]
    finished = events[-1]
    assert isinstance(finished, StreamFinished)
    assert (finished.finish_reason, finished.completion_tokens) == ("length", 6)
    assert "".join(d.text for d in deltas).strip()
    # The 4 image tokens of a 32x32 picture are part of the prompt.
    assert finished.prompt_tokens is not None and finished.prompt_tokens > 4 + 3
    assert isinstance(again[-1], StreamFinished) and again[-1].completion_tokens == 6


def test_a_text_only_transformers_model_refuses_images(
    tiny_llama_spec: ModelSpec, tmp_path: Path
) -> None:
    png = write_png(tmp_path / "red.png")
    engine = TransformersEngine()
    engine.load(tiny_llama_spec, LoadOptions(device="cpu"))
    try:
        asked = [ChatMessage("user", "What is this?", (ImageAttachment(path=str(png)),))]
        with pytest.raises(UnsupportedOption, match="tiny-llama reads text only"):
            list(engine.stream(asked, GREEDY))
        text = list(engine.stream([ChatMessage("user", "hi")], GREEDY))  # still answers text
        assert isinstance(text[-1], StreamFinished)
    finally:
        engine.unload()
