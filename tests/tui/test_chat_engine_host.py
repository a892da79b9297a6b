"""The chat screen over hosted engines that crash or hang, as a user sees it: a clear
message in place of the answer's stats, the app still up, the partial answer on screen
and in the store, and the next answer working."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.host.client import live_hosts
from tests.fixtures.host_engines import ASSERT_LINE, host_test_engines, host_test_spec
from tests.tui.test_chat_screen import answered, chat, ready, send, views
from tui.app import LocalAIApp
from tui.chat.message_view import MessageView

__all__ = ["host_test_engines"]

EXPECTED = {
    "SIGILL": ["CPU", "GGML_NATIVE=OFF"],
    "SIGSEGV": ["SIGSEGV", "engine-hosts"],
    "SIGABRT": ["SIGABRT", ASSERT_LINE],
    "SIGKILL": ["SIGKILL"],
}


def _stats_line(app: LocalAIApp) -> str:
    return str(app.query(MessageView).last().query_one(".stats").render())


@pytest.mark.parametrize("mode", list(EXPECTED))
async def test_a_host_crash_mid_answer_is_explained_and_the_next_answer_works(
    make_app: Callable[..., LocalAIApp], host_test_engines: None, tmp_path: Path, mode: str
) -> None:
    spec = host_test_spec(mode, tmp_path / "model")
    app = make_app(spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        await send(app, pilot, "go")
        await answered(app, pilot)

        assert views(app)[-1] == ("assistant", "Partial answer")
        shown = _stats_line(app)
        assert all(part in shown for part in EXPECTED[mode]), shown
        assert "The conversation is kept" in shown
        assert app.is_running
        stored = app.store.messages(chat(app).conversation_id)  # type: ignore[arg-type]
        assert [(m.role, m.content) for m in stored] == [
            ("user", "go"),
            ("assistant", "Partial answer"),
        ]

        await send(app, pilot, "again")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Partial answer done.")
        assert "stopped" not in _stats_line(app)
    assert live_hosts() == []  # quitting the app ends its hosts


async def test_escape_on_a_stuck_engine_ends_the_answer_at_once_and_keeps_it(
    make_app: Callable[..., LocalAIApp], host_test_engines: None, tmp_path: Path
) -> None:
    spec = host_test_spec("stuck", tmp_path / "model")
    app = make_app(spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        await send(app, pilot, "go")
        await pilot.pause()
        stuck_pid = app.manager.engine.host.pid  # type: ignore[union-attr]
        await _until_text(app, pilot, "Partial answer")
        pressed = time.monotonic()
        await pilot.press("escape")
        await answered(app, pilot)
        took = time.monotonic() - pressed

        # The engine sleeps 60 s ignoring the cancel: ending long before that means the
        # host was killed after its grace (0.3 s), not waited for. Loose for a shared box.
        assert took < 10, f"the answer ended {took:.2f} s after Esc"
        assert views(app)[-1] == ("assistant", "Partial answer")
        assert "stopped" in _stats_line(app)
        stored = app.store.messages(chat(app).conversation_id)  # type: ignore[arg-type]
        assert stored[-1].content == "Partial answer"
        assert stored[-1].stats["finish_reason"] == "cancelled"  # type: ignore[index]

        await send(app, pilot, "again")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Partial answer done.")
        assert app.manager.engine.host.pid != stuck_pid  # type: ignore[union-attr]


async def _until_text(app: LocalAIApp, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    from tests.tui.waiting import until

    await until(pilot, lambda: views(app)[-1][1] == text, f"{text!r} on screen")


async def test_llama_sigill_self_heals_with_a_notice_and_answers(
    make_app: Callable[..., LocalAIApp], host_test_engines: None, tmp_path: Path
) -> None:
    from tests.fixtures.host_engines import llama_like_spec
    from tests.tui.test_chat_screen import notifications

    spec = llama_like_spec(tmp_path / "model")
    app = make_app(spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, spec.key)
        await send(app, pilot, "hi")
        await answered(app, pilot)

        assert views(app)[-1] == ("assistant", "Fine without repacking.")
        shown = "\n".join(notifications(app))
        assert "reloaded without them" in shown and "GGML_NATIVE=OFF" in shown
        assert "Engine crashed" not in _stats_line(app)
