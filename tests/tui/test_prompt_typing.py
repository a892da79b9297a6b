"""Text that arrives as keys (a paste without bracketed paste, a paste over slow SSH) costs
work in proportion to its length, not its square.

Wall-clock time is no measure on a shared machine, so this counts the characters Textual
re-wraps: the TextArea re-wraps the whole line at each edit, so one edit per key made the
work grow with the square of the text (33 KB took over 4 minutes).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual import events
from textual.document import _wrapped_document

from backends.base import ModelSpec
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.prompt_input import PromptInput

KEY_NAMES = {" ": "space", ".": "full_stop", ",": "comma"}


def keys_for(text: str) -> list[events.Key]:
    return [events.Key(KEY_NAMES.get(ch, ch), ch) for ch in text]


async def wrap_work_to_type(app: LocalAIApp, pilot, text: str, counter: list[int]) -> int:  # type: ignore[no-untyped-def]
    prompt = app.screen.query_one(PromptInput)
    prompt.clear()
    await pilot.pause()
    counter[0] = 0
    assert app._driver is not None
    for key in keys_for(text):  # as the terminal's parser posts them: all queued at once
        key.set_sender(app)
        app._driver.send_message(key)
    await until(pilot, lambda: len(prompt.text) >= len(text), "the text typed", tries=20000)
    assert prompt.text == text
    return counter[0]


async def test_typed_text_costs_linear_work(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = [0]
    wrap = _wrapped_document.compute_wrap_offsets

    def counting_wrap(text: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        counter[0] += len(text)
        return wrap(text, *args, **kwargs)

    monkeypatch.setattr(_wrapped_document, "compute_wrap_offsets", counting_wrap)
    sentence = "The quick brown fox jumps over the lazy dog, again and again. "
    text = (sentence * 400)[:20_000]
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        prompt = app.screen.query_one(PromptInput)
        prompt.focus()
        work = await wrap_work_to_type(app, pilot, text, counter)
    # One edit per key re-wrapped the growing line each time: n²/2 = 200 M characters for
    # 20 KB. Gathered keys re-wrap it once per batch; how many batches the keys arrive in
    # depends on scheduling (2-3 on a quiet box, more on a loaded one), so the bound is
    # generous — and still 50x below the quadratic cost.
    assert work < 200 * len(text), work


async def test_a_burst_of_keys_keeps_its_order_with_new_lines_and_enter(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    """What a paste without bracketed paste sends: characters, ctrl+j, Enter, all queued."""
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        prompt = app.screen.query_one(PromptInput)
        prompt.focus()
        burst = [
            *keys_for("hello"),
            events.Key("ctrl+j", None),
            *keys_for("wor"),
            events.Paste("ld"),  # a bracketed paste amid the keys
            *keys_for("."),
            events.Key("enter", None),
        ]
        assert app._driver is not None
        for event in burst:
            event.set_sender(app)
            app._driver.send_message(event)
        await until(pilot, lambda: len(app.store.list_conversations()) == 1, "sent")
        conversation = app.store.list_conversations()[0]
        assert app.store.messages(conversation.id)[0].content == "hello\nworld."
        await until(pilot, lambda: prompt.text == "", "the prompt cleared")
        await pilot.press("a", "b", "left", "c", "end", "d", "backspace", "e")
        assert prompt.text == "acbe"
