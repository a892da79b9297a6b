"""The chat screen as a user drives it: send, stream, stop, regenerate, edit, copy, switch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from backends.base import ModelSpec
from backends.models.manager import ModelManager
from backends.settings import load_settings
from tests.fixtures.scripted_engine import Script
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.chat_screen import ChatScreen
from tui.chat.clipboard import last_code_block
from tui.chat.message_view import MessageView
from tui.chat.prompt_input import PromptInput


def chat(app: LocalAIApp) -> ChatScreen:
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    return screen


def views(app: LocalAIApp) -> list[tuple[str, str]]:
    return [(v.role, v.content) for v in app.query(MessageView)]


def notifications(app: LocalAIApp) -> list[str]:
    """Every notification posted so far, expired toasts included (see notices_kept)."""
    return [f"{title}: {message}" for title, message in getattr(app, "notices_seen", [])]


async def send(app: LocalAIApp, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    app.query_one(PromptInput).focus()
    await pilot.press(*text)
    await pilot.press("enter")


async def ready(app: LocalAIApp, pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    await until(
        pilot,
        lambda: (
            app.manager.spec is not None
            and app.manager.spec.key == key
            and chat(app).status.text.endswith("ready")
        ),  # the UI has heard of it too
        f"model {key} loaded",
    )


async def answered(app: LocalAIApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: not chat(app).generating, "the answer to finish")


async def test_prompt_streams_an_answer_with_stats_and_saves_it(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        assert "Model A · scripted" in chat(app).status.text
        await send(app, pilot, "hi there")
        await answered(app, pilot)
        assert views(app) == [("user", "hi there"), ("assistant", "Hello from **A**.")]
        answer = app.query(MessageView).last()
        await pilot.pause()
        shown = answer.query_one("Markdown").source  # type: ignore[attr-defined]
        assert shown == "Hello from **A**."
        stats = str(answer.query_one(".stats").render())
        assert "TTFT 0.05 s" in stats and "tokens" in stats and "tok/s" in stats
        assert app.query_one(PromptInput).text == ""
        conversation = chat(app).conversation_id
        assert conversation is not None
        stored = app.store.messages(conversation)
        assert [(m.role, m.content) for m in stored] == views(app)
        assert stored[1].stats and stored[1].stats["completion_tokens"] == 4
        assert app.store.get_conversation(conversation).title == "hi there"  # type: ignore[union-attr]


async def test_escape_stops_and_keeps_the_partial_answer_on_screen_and_on_disk(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    script = scripted_engines["a"]
    script.hold_before = 2  # "Hello from" arrives, then the engine stalls
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "go")
        assert await asyncio.to_thread(script.reached_hold.wait, 5)
        await until(pilot, lambda: views(app)[-1][1] == "Hello from", "partial text shown")
        assert chat(app).generating
        await pilot.press("escape")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Hello from")
        answer = app.query(MessageView).last()
        assert "stopped" in str(answer.query_one(".stats").render())
        assert answer.has_class("-stopped")
        stored = app.store.messages(chat(app).conversation_id)  # type: ignore[arg-type]
        assert stored[-1].content == "Hello from"
        assert stored[-1].stats["finish_reason"] == "cancelled"  # type: ignore[index]


async def test_partial_answer_is_on_disk_while_still_streaming(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    """What a kill -9 would leave: the text shown so far is already in the database."""
    script = scripted_engines["a"]
    script.hold_before = 3
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "go")
        await until(pilot, lambda: views(app)[-1][1] == "Hello from **A**", "partial shown")
        from backends.store.conversations import ConversationStore

        other = ConversationStore(app.store.path)  # a second reader, like a restarted app
        stored = other.messages(chat(app).conversation_id)  # type: ignore[arg-type]
        assert stored[-1].content == "Hello from **A**"
        other.close()
        script.release.set()
        await answered(app, pilot)


async def test_recent_model_shortcut_switches_the_engine_for_the_next_answer(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    model_b: ModelSpec,
    scripted_engines: dict[str, Script],
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    earlier = ModelManager(load_settings(), recents_path=tmp_path / "data" / "recent_models.json")
    earlier.switch(model_b)  # B was used in an earlier session
    earlier.unload()
    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, "a")
        assert [s.key for s in app.manager.recents()] == ["a", "b"]
        await send(app, pilot, "first")
        await answered(app, pilot)
        await pilot.press("alt+2")
        await ready(app, pilot, "b")
        await send(app, pilot, "second")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Hi from B.")
        assert len(scripted_engines["a"].calls) == 1 and len(scripted_engines["b"].calls) == 1
        # B saw the whole conversation, including A's answer
        assert [m.content for m in scripted_engines["b"].calls[0]] == [
            "first",
            "Hello from **A**.",
            "second",
        ]
        assert scripted_engines["a"].unloads == 1  # switching freed the previous model
        assert "Model B · scripted" in chat(app).status.text


async def test_a_failed_load_says_why_and_the_previous_model_still_answers(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    missing = ModelSpec(
        key="gguf:/nowhere/missing.gguf",
        name="Missing GGUF",
        engine="llama_cpp",
        path=str(tmp_path / "missing.gguf"),
    )
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        chat(app).load_model(missing)
        await until(
            pilot, lambda: any("Missing GGUF" in n for n in notifications(app)), "the load error"
        )
        error = next(n for n in notifications(app) if "Missing GGUF" in n)
        assert "Still using Model A." in error
        assert app.manager.spec is not None and app.manager.spec.key == "a"
        assert "ready" in chat(app).status.text
        await send(app, pilot, "still there?")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Hello from **A**.")


async def test_a_conversation_survives_an_app_restart(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    first = make_app(model_a)
    async with first.run_test(size=(120, 40)) as pilot:
        await ready(first, pilot, "a")
        await send(first, pilot, "remember me")
        await answered(first, pilot)
        conversation = chat(first).conversation_id
    second = make_app(model_a)
    async with second.run_test(size=(120, 40)) as pilot:
        await ready(second, pilot, "a")
        # The chat open at the close opens again, as it was.
        assert chat(second).conversation_id == conversation
        assert views(second) == [("user", "remember me"), ("assistant", "Hello from **A**.")]
        line = second.query(MessageView).last().query_one(".stats")
        await until(pilot, lambda: str(line.render()), "the stats line drawn")  # after mount
        stats = str(line.render())
        assert "TTFT 0.05 s" in stats
        role = second.query(MessageView).last().query_one(".role").render()
        assert str(role) == "Model A"  # its name, as when it streamed, not its key
        await send(second, pilot, "and now?")
        await answered(second, pilot)
        assert len(second.store.messages(conversation)) == 4  # type: ignore[arg-type]


async def test_ctrl_j_inserts_a_newline_and_enter_sends_both_lines(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("a", "ctrl+j", "b")
        assert app.query_one(PromptInput).text == "a\nb"
        assert views(app) == []
        await pilot.press("enter")
        await answered(app, pilot)
        assert views(app)[0] == ("user", "a\nb")


async def test_regenerate_replaces_the_last_answer(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "q")
        await answered(app, pilot)
        scripted_engines["a"].tokens = ["Another", " answer"]
        await pilot.press("ctrl+r")
        await until(pilot, lambda: views(app)[-1][1] == "Another answer", "new answer")
        await answered(app, pilot)
        assert views(app) == [("user", "q"), ("assistant", "Another answer")]
        stored = app.store.messages(chat(app).conversation_id)  # type: ignore[arg-type]
        assert [m.content for m in stored] == ["q", "Another answer"]


async def test_edit_and_resend_drops_the_later_messages(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "one")
        await answered(app, pilot)
        await send(app, pilot, "two")
        await answered(app, pilot)
        await pilot.press("up")  # in the empty prompt: edit the previous message
        prompt = app.query_one(PromptInput)
        assert prompt.text == "two" and prompt.has_class("-editing")
        await pilot.press("alt+e")  # again: the message before it
        assert prompt.text == "one"
        prompt.text = ""
        await pilot.press(*"uno", "enter")
        await answered(app, pilot)
        assert views(app) == [("user", "uno"), ("assistant", "Hello from **A**.")]
        stored = app.store.messages(chat(app).conversation_id)  # type: ignore[arg-type]
        assert [m.content for m in stored] == ["uno", "Hello from **A**."]
        assert [m.content for m in scripted_engines["a"].calls[-1]] == ["uno"]


async def test_copy_answer_and_code_block_use_osc52_and_say_so(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    scripted_engines["a"].tokens = ["See:\n\n```python\n", "print(1)\n", "```\n", "Done."]
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("ctrl+b")
        assert "no answer to copy" in notifications(app)[-1]
        await send(app, pilot, "code please")
        await answered(app, pilot)
        await pilot.press("ctrl+b")
        assert app.clipboard == "See:\n\n```python\nprint(1)\n```\nDone."
        assert "OSC 52" in notifications(app)[-1] and "tmux" in notifications(app)[-1]
        await pilot.press("ctrl+g")
        assert app.clipboard == "print(1)\n"


def test_last_code_block_prefers_the_last_and_accepts_an_unclosed_fence() -> None:
    text = "```\na\n```\nx\n```py\nb\n```\n"
    assert last_code_block(text) == "b\n"
    assert last_code_block("hi\n```sh\nls -l") == "ls -l"
    assert last_code_block("no code") is None


async def test_invalid_parameter_is_explained_and_nothing_is_sent(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        from textual.widgets import Input

        app.query_one("#param-temperature", Input).value = "9"
        await send(app, pilot, "hi")
        await pilot.pause()
        assert views(app) == []
        assert "Temperature" in notifications(app)[-1]
        assert app.query_one(PromptInput).text == "hi"  # the prompt is kept


async def test_sampling_params_and_system_prompt_reach_the_engine(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        from textual.widgets import Input, TextArea

        app.query_one("#param-max_new_tokens", Input).value = "2"
        app.query_one("#system-prompt", TextArea).text = "Be terse."
        await send(app, pilot, "hi")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Hello from")  # two tokens only
        call = scripted_engines["a"].calls[-1]
        assert (call[0].role, call[0].content) == ("system", "Be terse.")
        conversation = app.store.get_conversation(chat(app).conversation_id)  # type: ignore[arg-type]
        assert conversation is not None and conversation.system_prompt == "Be terse."


async def test_reopening_a_saved_chat_from_the_conversation_list_after_a_restart(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    import pytest

    pytest.importorskip("tui.chat.conversations_screen")
    first = make_app(model_a)
    async with first.run_test(size=(80, 24)) as pilot:
        await ready(first, pilot, "a")
        await send(first, pilot, "keep this")
        await answered(first, pilot)
    second = make_app(model_a)
    async with second.run_test(size=(80, 24)) as pilot:
        await ready(second, pilot, "a")
        await pilot.press("ctrl+l")
        await until(pilot, lambda: not isinstance(second.screen, ChatScreen), "conversation list")
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(second.screen, ChatScreen), "back in the chat")
        await until(pilot, lambda: len(views(second)) == 2, "messages shown")
        assert views(second) == [("user", "keep this"), ("assistant", "Hello from **A**.")]


async def test_quitting_mid_answer_ends_the_stream_and_keeps_the_text(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    script = scripted_engines["a"]
    script.hold_before = 2
    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "go")
        await until(pilot, lambda: views(app)[-1][1] == "Hello from", "partial shown")
        conversation = chat(app).conversation_id
    # the app has exited (the engine was unloaded, not stuck waiting on the stream)
    assert script.unloads == 1
    from backends.store.conversations import ConversationStore

    store = ConversationStore(app.store.path)
    assert store.messages(conversation)[-1].content == "Hello from"  # type: ignore[arg-type]


async def test_enter_right_after_fast_typing_sends_every_character(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    """A paste or tmux send-keys delivers keys in a burst; Enter must not overtake them."""
    from textual import events

    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, "a")
        for key, char in [
            *((c, c) for c in "ab"),
            ("full_stop", "."),
            ("ctrl+j", "\n"),
            ("c", "c"),
            ("enter", "\r"),
        ]:
            app.post_message(events.Key(key, char))
        await answered(app, pilot)
        await until(pilot, lambda: len(views(app)) == 2, "message sent")
        assert views(app)[0] == ("user", "ab.\nc")


async def test_a_load_shows_progress_and_escape_cancels_it_keeping_the_model(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    model_b: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    from textual.widgets import ProgressBar

    scripted_engines["b"].hold_load = True
    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, "a")
        chat(app).load_model(model_b)
        await until(pilot, lambda: "Loading weights" in chat(app).status.text, "progress")
        # Whose weights: the model still in use is on the left, the one loading is named.
        assert "Model B: Loading weights (Esc cancels)" in chat(app).status.text
        bar = app.query_one("#load-progress", ProgressBar)
        assert bar.display and bar.percentage == 0.4
        await pilot.press("escape")
        await until(pilot, lambda: any("cancelled" in n for n in notifications(app)), "cancel")
        assert "Still using Model A" in notifications(app)[-1]
        assert not bar.display and "ready" in chat(app).status.text
        assert app.manager.spec.key == "a"  # type: ignore[union-attr]
        await send(app, pilot, "still A?")
        await answered(app, pilot)
        assert views(app)[-1] == ("assistant", "Hello from **A**.")


async def test_a_storage_failure_is_reported_and_the_app_keeps_running(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, "a")
        app.store.close()  # stands in for a full disk or a locked database
        await send(app, pilot, "hello")
        await until(pilot, lambda: any("closed" in n for n in notifications(app)), "error")
        assert app.is_running and isinstance(app.screen, ChatScreen)
        assert app.query_one(PromptInput).text == "hello"  # nothing lost from the prompt


async def test_page_keys_in_the_prompt_scroll_a_long_conversation(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    scripted_engines: dict[str, Script],
) -> None:
    scripted_engines["a"].tokens = [f"line {i}\n\n" for i in range(40)]
    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "long please")
        await answered(app, pilot)
        await pilot.pause()
        messages = app.query_one("#messages")
        assert messages.scroll_y == messages.max_scroll_y > 0  # follows the answer
        await pilot.press("pageup")
        assert messages.scroll_y < messages.max_scroll_y
        assert isinstance(app.focused, PromptInput)  # typing goes on in the prompt
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown", "pagedown")
        assert messages.scroll_y == messages.max_scroll_y


async def test_copy_says_clearly_where_osc52_cannot_work(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TERM_PROGRAM", "Apple_Terminal")
    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "x")
        await answered(app, pilot)
        await pilot.press("ctrl+b")
        assert "macOS Terminal ignores OSC 52" in notifications(app)[-1]


async def test_start_skips_a_recent_model_whose_file_is_gone(
    make_app: Callable[..., LocalAIApp],
    model_a: ModelSpec,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    from dataclasses import replace

    gone = replace(model_a, key="gone", name="Deleted GGUF", path=str(tmp_path / "gone.gguf"))
    earlier = ModelManager(load_settings(), recents_path=tmp_path / "data" / "recent_models.json")
    earlier.switch(model_a)
    earlier._remember(gone)  # most recent, but its file was deleted since
    app = make_app()  # no --model: the app picks
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, "a")
        assert not any("Deleted GGUF" in n for n in notifications(app))


async def test_escape_leaves_the_params_panel_for_the_prompt(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec
) -> None:
    """After editing a parameter, Esc goes back to the prompt so the next keys are a message."""
    from textual.widgets import TextArea

    from tui.chat.params_panel import ParamsPanel

    app = make_app(model_a)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("ctrl+t")  # narrow: the panel opens over the chat, focused
        panel = app.query_one(ParamsPanel)
        assert panel.display and panel.has_focus_within
        await pilot.press("escape", *"hi")
        assert not panel.display  # closed again: it covered the chat
        assert app.query_one(PromptInput).text == "hi"
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        app.query_one(PromptInput).clear()  # the first run's draft came back with the app
        app.query_one("#system-prompt", TextArea).focus()
        await pilot.press(*"Be brief.", "escape", *"hi")
        assert app.query_one("#system-prompt", TextArea).text == "Be brief."
        assert app.query_one(ParamsPanel).display  # wide: the panel stays beside the chat
        assert app.query_one(PromptInput).text == "hi"
