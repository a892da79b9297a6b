"""llama.cpp engine specifics: file checks before llama.cpp, templates, terminal hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from backends.base import (
    ChatMessage,
    GenerationParams,
    LoadOptions,
    ModelSpec,
    Notice,
    StreamFinished,
    TextDelta,
)
from backends.chat.llama_cpp import LlamaCppEngine
from backends.errors import CorruptModel, LoadCancelled, ModelNotFound, UnsupportedModel
from tests.fixtures.tiny_models import build_tiny_gguf

pytestmark = pytest.mark.slow
pytest.importorskip("llama_cpp")

REPO_ROOT = Path(__file__).resolve().parents[3]


def _spec(path: Path) -> ModelSpec:
    return ModelSpec(key=f"gguf:{path}", name=path.name, engine="llama_cpp", path=str(path))


def _load(path: Path) -> LlamaCppEngine:
    engine = LlamaCppEngine()
    engine.load(_spec(path), LoadOptions(n_ctx=256))
    return engine


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="does not exist"):
        _load(tmp_path / "gone.gguf")


def test_garbage_file_is_not_a_gguf(tmp_path: Path) -> None:
    garbage = tmp_path / "model.gguf"
    garbage.write_bytes(b"<html>404 Not Found</html>" * 10)

    with pytest.raises(CorruptModel, match="not a GGUF model file"):
        _load(garbage)


def test_empty_file_says_empty(tmp_path: Path) -> None:
    empty = tmp_path / "model.gguf"
    empty.touch()

    with pytest.raises(CorruptModel, match="empty"):
        _load(empty)


def test_truncated_file_reports_sizes(tiny_gguf_path: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial.gguf"
    partial.write_bytes(tiny_gguf_path.read_bytes()[:300_000])

    with pytest.raises(CorruptModel) as raised:
        _load(partial)

    assert raised.value.message == (
        "This GGUF file is truncated (300 KB of 554 KB). Download it again."
    )


def test_unknown_architecture_is_named(tmp_path: Path) -> None:
    path = build_tiny_gguf(tmp_path / "frob.gguf", architecture="frobnicator")

    with pytest.raises(UnsupportedModel, match="'frobnicator'"):
        _load(path)


def test_base_model_without_template_gets_transcript_and_a_notice(
    tiny_gguf_base_path: Path,
) -> None:
    engine = _load(tiny_gguf_base_path)
    assert engine.capabilities.chat_template is False  # the header marks the mode
    events = list(
        engine.stream([ChatMessage("user", "Hi")], GenerationParams(max_new_tokens=4, seed=0))
    )
    engine.unload()
    assert engine.capabilities.chat_template is True  # back to the class's

    assert isinstance(events[0], Notice)
    assert "no chat template" in events[0].text
    assert any(isinstance(e, TextDelta) for e in events)


def test_chat_model_has_no_notice_and_reports_its_metadata(tiny_gguf_path: Path) -> None:
    engine = _load(tiny_gguf_path)
    assert engine.capabilities.chat_template is True
    events = list(engine.stream([ChatMessage("user", "Hi")], GenerationParams(max_new_tokens=3)))
    info = engine.info
    footprint = engine.memory_footprint()
    engine.unload()

    assert not any(isinstance(e, Notice) for e in events)
    assert info is not None and info.architecture == "llama" and info.has_chat_template
    assert footprint.ram_bytes == tiny_gguf_path.stat().st_size
    assert footprint.vram_bytes == 0


def test_cancel_before_load_finishes(tiny_gguf_path: Path) -> None:
    engine = LlamaCppEngine()
    cancel = threading.Event()

    def cancel_at_weights(progress: object) -> None:
        if getattr(progress, "message", "") == "Loading weights":
            cancel.set()

    with pytest.raises(LoadCancelled):
        engine.load(
            _spec(tiny_gguf_path), LoadOptions(n_ctx=256), progress=cancel_at_weights,
            cancel=cancel,
        )  # fmt: skip
    assert not engine.loaded


_QUIET_SCRIPT = """
import json, logging, os, sys
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger("backends.chat.llama_cpp.native").addHandler(Keep())
logging.getLogger("backends.chat.llama_cpp.native").setLevel(logging.DEBUG)
redirects = []
real_dup2 = os.dup2
def watching_dup2(fd, fd2, *args, **kwargs):
    redirects.append(fd2)
    return real_dup2(fd, fd2, *args, **kwargs)
os.dup2 = watching_dup2
from backends.base import ChatMessage, GenerationParams, LoadOptions, ModelSpec
from backends.chat.llama_cpp import LlamaCppEngine
engine = LlamaCppEngine()
engine.load(ModelSpec(key="k", name="m", engine="llama_cpp", path=sys.argv[1]),
            LoadOptions(n_ctx=256))
events = list(engine.stream([ChatMessage("user", "Hi")], GenerationParams(max_new_tokens=5)))
engine.unload()
report = {"redirects": redirects, "native_lines": len(records),
          "loader_logged": any("llama_model_loader" in r for r in records)}
with open(sys.argv[2], "w") as handle:
    json.dump(report, handle)
"""


def test_load_and_generate_print_nothing_and_leave_fd2_alone(
    tiny_gguf_path: Path, tmp_path: Path
) -> None:
    """Textual draws on stderr: llama.cpp must neither write there nor redirect it."""
    report_path = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-c", _QUIET_SCRIPT, str(tiny_gguf_path), str(report_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == ""
    report = json.loads(report_path.read_text())
    assert 1 not in report["redirects"] and 2 not in report["redirects"]
    assert report["loader_logged"]  # the native log went to `logging`, not to nowhere


def test_unload_drops_the_last_reference_to_llama(tiny_gguf_path: Path) -> None:
    import weakref

    engine = _load(tiny_gguf_path)
    llm = weakref.ref(engine._llm)  # type: ignore[arg-type]
    list(engine.stream([ChatMessage("user", "Hi")], GenerationParams(max_new_tokens=2)))

    engine.unload()

    assert llm() is None and engine.info is None


def test_failed_context_allocation_is_out_of_memory(tiny_gguf_path: Path) -> None:
    from backends.chat import llama_native as native_module
    from backends.errors import OutOfMemory
    from backends.models.gguf_file import read_gguf

    native_module.recent_native_lines.extend(
        ["llama_init_from_model: failed to allocate buffer for kv cache"]
    )
    error = native_module.explain_load_failure(
        str(tiny_gguf_path), read_gguf(tiny_gguf_path), ValueError("Failed to create llama_context")
    )
    native_module.recent_native_lines.clear()

    assert isinstance(error, OutOfMemory)
    assert "context size" in error.message


LONG_PROMPT = " ".join(["the quick brown fox jumps over the lazy dog"] * 12)


def _text(events: list) -> str:  # type: ignore[type-arg]
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_stop_takes_effect_during_prompt_evaluation(tiny_gguf_path: Path) -> None:
    """Esc during a long prompt: evaluation stops at the next chunk, not at the prompt's end
    (a 10 KB prompt to the demo model kept "stopping…" for ~20 s); the part evaluated stays
    cached and the next answer is the same as from a fresh engine."""
    greedy = GenerationParams(max_new_tokens=6, temperature=0.0, seed=0)
    messages = [ChatMessage("user", LONG_PROMPT)]
    fresh = LlamaCppEngine()
    fresh.load(_spec(tiny_gguf_path), LoadOptions(n_ctx=512))
    expected = _text(list(fresh.stream(messages, greedy)))
    fresh.unload()

    engine = LlamaCppEngine()
    engine.load(_spec(tiny_gguf_path), LoadOptions(n_ctx=512))
    llm = engine._llm
    assert llm is not None
    prompt_tokens = len(llm.tokenize(LONG_PROMPT.encode(), add_bos=True, special=True))
    assert prompt_tokens > 300
    cancel = threading.Event()
    evaluated: list[int] = []
    real_eval = llm.eval

    def eval_then_press_escape(tokens):  # type: ignore[no-untyped-def]
        real_eval(tokens)
        evaluated.append(len(tokens))
        cancel.set()  # Esc arrives while the first part of the prompt is evaluated

    llm.eval = eval_then_press_escape  # type: ignore[method-assign]
    events = list(engine.stream(messages, greedy, cancel=cancel))
    llm.eval = real_eval  # type: ignore[method-assign]
    finished = events[-1]
    assert isinstance(finished, StreamFinished)
    assert finished.finish_reason == "cancelled" and finished.completion_tokens == 0
    assert len(evaluated) == 1 and evaluated[0] < prompt_tokens / 4
    assert 0 < llm.n_tokens < prompt_tokens / 4  # stopped early, kept what it had

    again = list(engine.stream(messages, greedy))
    engine.unload()
    assert _text(again) == expected
    assert isinstance(again[-1], StreamFinished) and again[-1].finish_reason != "cancelled"


def test_loading_without_repacked_kernels_sets_the_model_param_and_answers(
    tiny_gguf_q8_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`use_extra_bufts=False` reaches llama_model_params (Llama() has no argument for it)."""
    import llama_cpp.llama_cpp as low_level

    original = low_level.llama_model_default_params
    built: list[object] = []

    def spy() -> object:
        params = original()
        built.append(params)
        return params

    monkeypatch.setattr(low_level, "llama_model_default_params", spy)
    engine = LlamaCppEngine()
    engine.load(_spec(tiny_gguf_q8_path), LoadOptions(n_ctx=256, use_extra_bufts=False))
    try:
        events = list(
            engine.stream([ChatMessage("user", "hi")], GenerationParams(max_new_tokens=4))
        )
    finally:
        engine.unload()

    assert len(built) == 1 and built[0].use_extra_bufts is False  # type: ignore[attr-defined]
    assert low_level.llama_model_default_params is spy  # put back after the load
    assert isinstance(events[-1], StreamFinished) and events[-1].completion_tokens == 4


def test_after_a_sigill_the_verdict_turns_repacking_off_for_this_build(
    tiny_gguf_q8_path: Path,
) -> None:
    import signal

    from backends.chat.llama_cpp import extra_bufts_allowed

    options = LoadOptions(n_ctx=256)
    assert extra_bufts_allowed(options)
    assert LlamaCppEngine.options_after_crash(signal.SIGSEGV, options) is None

    fallback = LlamaCppEngine.options_after_crash(signal.SIGILL, options)

    assert fallback is not None and fallback[0].use_extra_bufts is False
    assert "GGML_NATIVE=OFF" in fallback[1]
    assert not extra_bufts_allowed(options)  # remembered: the next load goes straight there
    assert LlamaCppEngine.options_after_crash(signal.SIGILL, options) is None
