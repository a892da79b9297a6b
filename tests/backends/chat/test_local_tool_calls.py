"""Tools on the local engines: the GGUF's / tokenizer's own template renders the offered
tools, a template without tools says the model cannot call them, and a call written in the
model's text comes out as ToolCallsRequested. Random weights cannot write a call, so the
sampled text is scripted (the engine's `_generate`); the prompt is the real template's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backends.base import (
    ChatMessage,
    GenerationParams,
    LoadOptions,
    ModelSpec,
    StreamFinished,
    TextDelta,
    ToolCall,
    ToolCallsRequested,
    ToolSpec,
)
from tests.fixtures.tiny_models import HERMES_TOOLS_TEMPLATE, build_tiny_gguf

pytestmark = pytest.mark.slow
pytest.importorskip("llama_cpp")

READ_FILE = ToolSpec(
    "read_file",
    "Read a text file",
    {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
)
CALL_TEXT = '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.txt"}}\n</tool_call>'


@pytest.fixture(scope="module")
def tools_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_gguf(
        tmp_path_factory.mktemp("tools-gguf") / "tiny-tools.gguf", template=HERMES_TOOLS_TEMPLATE
    )


def _engine(path: Path) -> Any:
    from backends.chat.llama_cpp import LlamaCppEngine

    engine = LlamaCppEngine()
    engine.load(
        ModelSpec(key=f"gguf:{path}", name=path.name, engine="llama_cpp", path=str(path)),
        LoadOptions(n_ctx=512),
    )
    return engine


def test_a_template_with_tools_renders_them_and_a_written_call_comes_out(
    tools_gguf: Path, tiny_gguf_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backends.chat.llama_cpp import LlamaCppEngine

    plain = _engine(tiny_gguf_path)
    assert not plain.capabilities.tools  # ChatML without tools: the app says so, offers none
    plain.unload()
    engine = _engine(tools_gguf)
    assert engine.capabilities.tools
    prompts: list[str] = []

    def scripted(llm: Any, tokens: list[int], *args: Any) -> Iterator[Any]:
        prompts.append(llm.detokenize(tokens, special=True).decode())
        for cut in range(0, len(CALL_TEXT), 7):
            yield TextDelta(CALL_TEXT[cut : cut + 7])
        yield StreamFinished("stop", len(tokens), 20, 0.1, 0.2)

    monkeypatch.setattr(LlamaCppEngine, "_generate", staticmethod(scripted))
    params = GenerationParams(tools=(READ_FILE,))
    events = list(engine.stream([ChatMessage("user", "read a.txt")], params))
    assert '"name": "read_file"' in prompts[0]  # the template got the tools
    assert not [e for e in events if isinstance(e, TextDelta)]
    [requested] = [e for e in events if isinstance(e, ToolCallsRequested)]
    assert [(c.name, json.loads(c.arguments)) for c in requested.calls] == [
        ("read_file", {"path": "a.txt"})
    ]
    assert isinstance(events[-1], StreamFinished) and events[-1].finish_reason == "tool_calls"

    # The call and its result go back through the template as it writes them.
    history = [
        ChatMessage("user", "read a.txt"),
        ChatMessage(
            "assistant", "", tool_calls=(ToolCall("c1", "read_file", '{"path": "a.txt"}'),)
        ),
        ChatMessage("tool", "hello from a", tool_call_id="c1", name="read_file"),
    ]
    list(engine.stream(history, params))
    assert (
        '<tool_call>{"name": "read_file", "arguments": {"path": "a.txt"}}</tool_call>'
        in (prompts[-1])
    )
    assert "<tool_response>hello from a</tool_response>" in prompts[-1]
    engine.unload()


def test_transformers_takes_tools_where_its_template_does(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from backends.chat.transformers import TransformersEngine

    with_tools = tmp_path / "tiny-llama-tools"
    shutil.copytree(tiny_llama_dir, with_tools)
    (with_tools / "chat_template.jinja").write_text(HERMES_TOOLS_TEMPLATE, encoding="utf-8")
    engine = TransformersEngine()
    engine.load(
        ModelSpec(key="t", name="t", engine="transformers", path=str(tiny_llama_dir)),
        LoadOptions(),
    )
    assert not engine.capabilities.tools
    engine.load(
        ModelSpec(key="t2", name="t2", engine="transformers", path=str(with_tools)),
        LoadOptions(),
    )
    assert engine.capabilities.tools
    params = GenerationParams(max_new_tokens=4, temperature=0, tools=(READ_FILE,))
    events = list(engine.stream([ChatMessage("user", "read a.txt")], params))
    finished = events[-1]
    assert isinstance(finished, StreamFinished) and finished.prompt_tokens
    # The tools went into the prompt: it is longer than the same chat without them.
    plain = list(
        engine.stream([ChatMessage("user", "read a.txt")], GenerationParams(max_new_tokens=4))
    )
    assert isinstance(plain[-1], StreamFinished)
    assert finished.prompt_tokens > (plain[-1].prompt_tokens or 0)
    engine.unload()
