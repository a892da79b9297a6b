"""Pictures of the chat screen with a finished answer, at the smallest and a common size."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backends.base import ModelSpec
from tests.fixtures.scripted_engine import Script
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.chat_screen import ChatScreen
from tui.chat.prompt_input import PromptInput

ANSWER = (
    "Here is a function:\n\n```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```\n\n"
    "It returns the **sum** of `a` and `b`."
)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_chat_screen_with_a_finished_answer(
    size: tuple[int, int],
    snap_compare,  # type: ignore[no-untyped-def]
    make_app: Callable[..., LocalAIApp],
    scripted_engines: dict[str, Script],
) -> None:
    """Status line with the model; user message; the answer with a highlighted Python block
    and its stats line (TTFT 0.05 s · 4 → N tokens); an empty prompt; the footer keys. At
    120x40 the sampling panel is open on the right; at 80x24 it is hidden."""
    scripted_engines["snap"] = Script(tokens=[ANSWER[i : i + 7] for i in range(0, len(ANSWER), 7)])
    app = make_app(ModelSpec(key="snap", name="Scripted 135M", engine="scripted"))

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        prompt = app.query_one(PromptInput)
        prompt.cursor_blink = False
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await until(pilot, lambda: app.manager.spec is not None, "model loaded")
        await pilot.press(*"Write add() in Python")
        await pilot.press("enter")
        await until(pilot, lambda: not screen.generating and app.query(".stats"), "answer")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_help_screen_fits_80x24(
    snap_compare,  # type: ignore[no-untyped-def]
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
) -> None:
    """The key list over the chat: global, chat, prompt, message and picker keys with their
    binding ids; alt+1..9 folded into one row; the footer line about ctrl+p and [keymap]."""
    app = make_app(model_a)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        app.query_one(PromptInput).cursor_blink = False
        await until(pilot, lambda: app.manager.spec is not None, "model loaded")
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_model_picker_at_80x24(
    snap_compare,  # type: ignore[no-untyped-def]
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    model_b: ModelSpec,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Recent models numbered 1 and 2 (the loaded one bold with ●), engine and size columns,
    the filter box on top, the highlighted model's key under the table and the key line at
    the bottom."""
    import backends.models.catalog

    monkeypatch.setattr(backends.models.catalog, "demo_spec", lambda: None)
    app = make_app(model_a)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        app.query_one(PromptInput).cursor_blink = False
        await until(pilot, lambda: app.manager.spec is not None, "model loaded")
        app.manager._remember(model_b)
        await pilot.press("ctrl+o")
        notes = app.screen.query_one("#picker-notes")
        await until(pilot, lambda: str(notes.render()) == "Model key: b", "scan")
        app.screen.query_one("#picker-filter").cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
