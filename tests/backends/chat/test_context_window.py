"""llama.cpp: a full context window is told apart from the token limit, and the overflow error
names the setting that makes room (`[models."KEY"] n_ctx`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.base import ChatMessage, GenerationParams, LoadOptions, ModelSpec, StreamFinished
from backends.chat.llama_cpp import LlamaCppEngine
from backends.errors import GenerationError

pytestmark = pytest.mark.slow
pytest.importorskip("llama_cpp")


def _engine(path: Path, n_ctx: int) -> LlamaCppEngine:
    engine = LlamaCppEngine()
    spec = ModelSpec(key=f"gguf:{path}", name=path.name, engine="llama_cpp", path=str(path))
    engine.load(spec, LoadOptions(n_ctx=n_ctx))
    return engine


def test_answer_cut_by_the_window_says_context_not_length(tiny_gguf_path: Path) -> None:
    engine = _engine(tiny_gguf_path, 256)
    try:
        hi = [ChatMessage("user", "hello there")]
        events = list(engine.stream(hi, GenerationParams(max_new_tokens=600, seed=1)))
        finished = events[-1]
        assert isinstance(finished, StreamFinished)
        assert finished.finish_reason == "context"
        assert finished.prompt_tokens is not None
        assert finished.completion_tokens == 256 - finished.prompt_tokens
        events = list(engine.stream(hi, GenerationParams(max_new_tokens=5, seed=1)))
        assert events[-1].finish_reason == "length"  # type: ignore[union-attr]
    finally:
        engine.unload()


def test_overflow_error_names_the_n_ctx_setting_for_this_model(
    tiny_gguf_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LOCALAI_TUI_CONFIG", str(tmp_path / "config.toml"))
    long = [ChatMessage("user", "hello there " * 300)]
    engine = _engine(tiny_gguf_path, 256)
    try:
        with pytest.raises(GenerationError) as raised:
            list(engine.stream(long, GenerationParams()))
        message = raised.value.message
        assert "no longer fits the context window (256 tokens)" in message
        assert f'[models."gguf:{tiny_gguf_path}"] n_ctx = 512' in message
        assert str(tmp_path / "config.toml") in message
        assert raised.value.title == "Context window full"
    finally:
        engine.unload()
    at_max = _engine(tiny_gguf_path, 512)  # the tiny model's own maximum
    try:
        with pytest.raises(GenerationError, match="That is this model's maximum"):
            list(at_max.stream([ChatMessage("user", "hello there " * 600)], GenerationParams()))
    finally:
        at_max.unload()


def test_transformers_tells_a_full_window_from_the_token_limit(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    """The window is config.max_position_embeddings (64 here): past it an answer is cut
    "context", and a prompt that does not fit says so instead of failing inside torch."""
    import json
    import shutil

    from backends.chat.transformers import TransformersEngine

    small = tmp_path / "small-window"
    shutil.copytree(tiny_llama_dir, small)
    config = json.loads((small / "config.json").read_text())
    config["max_position_embeddings"] = 64
    (small / "config.json").write_text(json.dumps(config))
    engine = TransformersEngine()
    spec = ModelSpec(key=f"path:{small}", name="small", engine="transformers", path=str(small))
    engine.load(spec, LoadOptions())
    try:
        hi = [ChatMessage("user", "hello there")]
        finished = list(engine.stream(hi, GenerationParams(max_new_tokens=200, seed=1)))[-1]
        assert isinstance(finished, StreamFinished)
        assert finished.finish_reason == "context"
        assert finished.prompt_tokens is not None
        assert finished.completion_tokens == 64 - finished.prompt_tokens
        finished = list(engine.stream(hi, GenerationParams(max_new_tokens=3, seed=1)))[-1]
        assert finished.finish_reason == "length"  # type: ignore[union-attr]
        with pytest.raises(GenerationError, match="no longer fits this model's context window"):
            list(engine.stream([ChatMessage("user", "hello there " * 80)], GenerationParams()))
    finally:
        engine.unload()


def test_a_window_llama_cpp_rounds_up_is_asked_for_rounded_and_said(
    tiny_gguf_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """n_ctx = 300: llama.cpp made a 512 window, llama-cpp-python a 300-token buffer, and a
    longer prompt failed with a raw numpy ValueError."""
    from backends.base import Notice

    monkeypatch.setenv("LOCALAI_TUI_CONFIG", str(tmp_path / "config.toml"))
    engine = _engine(tiny_gguf_path, 300)
    try:
        long = [ChatMessage("user", "hello there " * 70)]  # ~400 tokens
        events = list(engine.stream(long, GenerationParams(max_new_tokens=20, seed=1)))
        notices = [e.text for e in events if isinstance(e, Notice)]
        assert len(notices) == 1
        assert "n_ctx = 300" in notices[0] and "uses 512 tokens" in notices[0]
        assert f'[models."gguf:{tiny_gguf_path}"]' in notices[0]
        assert isinstance(events[-1], StreamFinished)
        again = list(engine.stream(long, GenerationParams(max_new_tokens=2, seed=1)))
        assert not [e for e in again if isinstance(e, Notice)]  # said once
    finally:
        engine.unload()
