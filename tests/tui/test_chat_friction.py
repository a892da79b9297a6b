"""Chat friction from issue 9: hints that are true, titles that follow, marks that survive."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input

from backends.base import ModelSpec
from tests.fixtures.scripted_engine import Script
from tests.tui.test_chat_screen import answered, chat, notifications, ready, send
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.message_view import MessageView, format_stats
from tui.chat.params_panel import ParamsPanel
from tui.chat.prompt_input import PromptInput


def stats_line(view: MessageView) -> str:
    return str(view.query_one(".stats").render())


async def test_an_invalid_parameter_opens_the_panel_at_the_field_and_never_closes_it(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    """The hint said "fix it in the side panel (ctrl+t)": with the panel open, ctrl+t hid it."""
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        panel = app.query_one(ParamsPanel)
        assert panel.display  # open at 120 columns
        app.query_one("#param-temperature", Input).value = "9"
        await send(app, pilot, "hi")
        await pilot.pause()
        assert panel.display
        assert app.focused is app.query_one("#param-temperature", Input)
        shown = notifications(app)[-1]
        assert shown.startswith("Invalid parameter: Temperature:")
        assert shown.endswith("Fix it in the side panel.") and "ctrl+t" not in shown
        await pilot.press("ctrl+t")  # closed by hand at 120 columns
        app.query_one("#param-temperature", Input).value = "9"
        await send(app, pilot, "hi")
        await pilot.pause()
        assert panel.display  # opened again at the field
        assert app.focused is app.query_one("#param-temperature", Input)


async def test_ctrl_t_focuses_an_open_panel_and_hides_it_only_from_inside(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    """With the panel open beside the chat and the cursor in the prompt, ctrl+t hid it."""
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        panel = app.query_one(ParamsPanel)
        app.query_one(PromptInput).focus()
        assert panel.display  # open at 120 columns, focus in the prompt
        await pilot.press("ctrl+t")
        assert panel.display and panel.has_focus_within  # focused, not hidden
        await pilot.press("ctrl+t")
        assert not panel.display  # from inside it, ctrl+t hides it
        assert app.focused is app.query_one(PromptInput)
        await pilot.press("ctrl+t")
        assert panel.display and panel.has_focus_within  # hidden: opens and focuses


async def test_the_params_panel_hides_when_the_terminal_shrinks_and_returns_when_it_widens(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        panel = app.query_one(ParamsPanel)
        panel.query_one(Input).focus()
        assert panel.display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not panel.display
        assert app.focused is app.query_one(PromptInput)  # focus did not vanish with it
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert panel.display


async def test_a_chat_started_narrow_shows_the_panel_once_widened_unless_closed_by_hand(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, "a")
        panel = app.query_one(ParamsPanel)
        assert not panel.display
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert panel.display
        await pilot.press("ctrl+t", "ctrl+t")  # focused, then closed by hand: a resize does
        # not bring it back
        await pilot.resize_terminal(80, 24)
        await pilot.resize_terminal(130, 40)
        await pilot.pause()
        assert not panel.display


async def test_the_title_follows_an_edited_first_prompt_unless_renamed(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "what is a tpyo")
        await answered(app, pilot)
        conversation = chat(app).conversation_id
        assert conversation is not None
        prompt = app.query_one(PromptInput)
        await pilot.press("up")  # edit the first (and only) prompt
        assert prompt.editing is not None
        prompt.text = "what is a typo"
        await pilot.press("enter")
        await answered(app, pilot)
        assert app.store.get_conversation(conversation).title == "what is a typo"  # type: ignore[union-attr]
        app.store.rename(conversation, "Spelling")
        await pilot.press("up")
        prompt.text = "what is a misspelling"
        await pilot.press("enter")
        await answered(app, pilot)
        assert app.store.get_conversation(conversation).title == "Spelling"  # type: ignore[union-attr]


async def test_a_reopened_answer_cut_by_quitting_is_marked_stopped(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    # What a quit mid-answer leaves: the text so far, and no stats.
    conversation = app.store.create_conversation("cut short")
    app.store.add_message(conversation, "user", "tell me everything")
    app.store.add_message(conversation, "assistant", "Well, first", model_key="a")
    failed = app.store.create_conversation("failed")
    app.store.add_message(failed, "user", "hi")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        chat(app).open_conversation(conversation)
        await pilot.pause()
        answer = app.query(MessageView).last()
        assert answer.content == "Well, first"
        assert stats_line(answer) == "stopped" and answer.has_class("-stopped")


async def test_a_failed_answer_says_why_when_reopened(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    scripted_engines["a"].fail_with = "[b]Boom[/b] in the engine"
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "hi")
        await answered(app, pilot)
        live = stats_line(app.query(MessageView).last())
        assert "[b]Boom[/b] in the engine" in live  # literally: no markup
        conversation = chat(app).conversation_id
        assert conversation is not None
        await pilot.press("ctrl+n")
        chat(app).open_conversation(conversation)
        await pilot.pause()
        answer = app.query(MessageView).last()
        assert stats_line(answer) == live
        assert answer.has_class("-error") and not answer.has_class("-stopped")


def test_stats_say_one_token_and_tell_a_full_context_from_the_token_limit() -> None:
    assert format_stats({"prompt_tokens": 36, "completion_tokens": 1}) == "36 → 1 token"
    assert format_stats({"completion_tokens": 2, "finish_reason": "length"}) == (
        "2 tokens · hit the token limit"
    )
    assert format_stats({"completion_tokens": 2, "finish_reason": "context"}) == (
        "2 tokens · context window full"
    )


async def test_copying_a_one_line_code_block_says_1_line(
    make_app: Callable[..., LocalAIApp],
    scripted_engines: dict[str, Script],
) -> None:
    from tests.fixtures.scripted_engine import scripted_spec

    scripted_engines["c"] = Script(tokens=["Run:\n\n```sh\n", "ls\n", "```\n"])
    app = make_app(scripted_spec("c", "Coder"))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "c")
        await send(app, pilot, "how")
        await answered(app, pilot)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: notifications(app), "a notice")
        assert notifications(app)[-1].startswith("Copied a code block (1 line):")


async def test_the_model_deleted_in_f4_is_unloaded_and_the_status_says_so(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        assert app._unload_for_delete()
        await pilot.pause()
        assert app.manager.spec is None
        assert chat(app).status.text == "no model loaded │ ctrl+o to pick a model"


async def test_regenerate_and_edit_in_an_empty_chat_say_why_nothing_happens(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    """ctrl+r and alt+e in a new chat did nothing at all, while ctrl+b said why."""
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert notifications(app)[-1].endswith("Nothing to regenerate yet: send a message first.")
        await pilot.press("alt+e")
        await pilot.pause()
        assert notifications(app)[-1].endswith("No message to edit yet: send one first.")
