"""Sending a prompt and streaming its answer into the chat screen.

Answers stream in a thread worker (answer_worker.py) that posts `AnswerUpdated` messages;
the conversation they go into is kept by answer_conversation.py, and pictures a text-only
model cannot see are handled by refused_pictures.py.

`AnswerFlow` is a plain helper the screen delegates to: Textual collects `@on` handlers and
`@work` methods per DOM node, so the screen keeps thin handlers and this holds the logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import time
from typing import TYPE_CHECKING

from backends.base import ChatMessage, GenerationParams, ImageAttachment, ModelSpec
from backends.chat.images import refuse_images
from backends.chat.session import build_messages
from backends.store.conversations import stats_from_finished
from backends.trace import mark
from tui.chat.answer_conversation import ensure_conversation, retitle
from tui.chat.answer_worker import AnswerUpdated, answer_title, run_answer_in_thread
from tui.chat.attachment_bar import AttachmentBar
from tui.chat.message_list import MessageList
from tui.chat.message_view import MessageView
from tui.chat.params_panel import InvalidParam, ParamsPanel
from tui.chat.prompt_input import PromptInput
from tui.chat.refused_pictures import TextOnlyNotices, Unsent, take_back
from tui.chat.tool_rounds import ToolRounds

# The longest the UI waits for the request to be written before it mounts the views.
SEND_FIRST_S = 0.05
WARM_CHECK_S = 1.0  # while typing, how often to ask the engine to keep its connection open

if TYPE_CHECKING:
    from collections.abc import Callable

    from backends.store.conversations import StoredMessage
    from tui.chat.chat_host import ChatHost
    from tui.chat.model_loader import ModelLoader


class AnswerFlow:
    """Owns the answer in progress: its view and its cancel event."""

    def __init__(
        self, screen: ChatHost, loader: ModelLoader, show_usage: Callable[[], None]
    ) -> None:
        self.screen = screen
        self._loader = loader  # a prompt sent while it loads waits for it
        self._show_usage = show_usage  # the device gauge learns what the model holds now
        self.cancel: threading.Event | None = None
        self.view: MessageView | None = None  # None while its chat is not the one shown
        self.message_id: int | None = None  # the answer in progress, stored as it streams
        self._conversation: int | None = None  # the chat it streams into
        self._text = ""  # its text so far, as handled here (the store may be a batch ahead)
        self._title = ""
        self._waiting_for: ModelSpec | None = None  # a prompt waits for this load
        self._prompt_title: str | None = None
        self._unsent: Unsent | None = None  # the message just sent, until it is answered
        self._text_only = TextOnlyNotices()
        self.tools = ToolRounds(screen)
        self._warmed_at = -WARM_CHECK_S

    @property
    def generating(self) -> bool:
        return self.cancel is not None

    def warm(self) -> None:
        """The user is typing: an engine that keeps a connection (`warm()`, a server's)
        opens it now, in a thread, at most once per WARM_CHECK_S."""
        warm = getattr(self.screen.manager.engine, "warm", None)
        now = time.monotonic()
        if warm is None or self.generating or now - self._warmed_at < WARM_CHECK_S:
            return
        self._warmed_at = now
        self.screen.run_worker(warm, name="warm", group="warm", thread=True, exit_on_error=False)

    def stop(self) -> bool:
        """Ask the running answer to stop (it keeps its text); False when none runs."""
        if self.cancel is None:
            return False
        self.cancel.set()
        return True

    async def send(self, prompt: PromptInput, text: str) -> None:
        mark("send")
        screen = self.screen
        if self.generating:
            screen.notify("An answer is still streaming: wait, or press Esc to stop it.")
            return
        loading = self._loader.loading
        if loading is not None:
            # The model being loaded answers, not the one it replaces.
            self._wait_for(loading, prompt)
            return
        if screen.manager.engine is None:
            screen.notify("No model loaded yet: press ctrl+o to pick one.", severity="warning")
            return
        params = self._params()
        if params is None:
            return
        bar = screen.query_one(AttachmentBar)
        if bar.paths and not screen.manager.engine.capabilities.vision:
            refuse_images(  # before anything is changed, stored or sent
                [ChatMessage("user", text, tuple(ImageAttachment(str(p)) for p in bar.paths))],
                screen.manager.spec.name if screen.manager.spec else "This model",
            )
        messages = screen.query_one(MessageList)
        view = prompt.editing
        edited_first: str | None = None  # the first prompt's old text, when it is edited
        draft = ""  # what the prompt held before the edit: it comes back once sent
        if view is not None:
            first = next((v for v in messages.views if v.role == "user"), None)
            edited_first = view.content if view is first else None
            draft = prompt.end_edit(clear=False)
            if screen.conversation_id is not None and view.message_id is not None:
                screen.store.delete_messages_from(screen.conversation_id, view.message_id)
            await messages.remove_from(view)
        if screen.conversation_id is None:
            screen.store.set_draft(None, "")  # the new chat's draft is this message
        conversation = ensure_conversation(screen, text)
        if edited_first is not None:
            retitle(screen.store, conversation, edited_first, text)
        user_id = screen.store.add_message(conversation, "user", text, images=bar.paths)
        stored = screen.store.messages(conversation)[-1].images if bar.paths else ()
        self._unsent = Unsent(user_id, text, bar.paths)
        prompt.show_draft(draft)
        screen.store.set_draft(conversation, draft)
        bar.clear()
        mark("user-stored")
        await self._start(params, MessageView("user", text, message_id=user_id, images=stored))

    async def regenerate(self) -> None:
        screen = self.screen
        if self.generating:
            return
        if screen.conversation_id is None:
            screen.notify("Nothing to regenerate yet: send a message first.")
            return
        loading = self._loader.loading
        if loading is not None:
            screen.notify(
                f"{loading.name} is still loading: regenerate when it is ready "
                "(Esc cancels the load)."
            )
            return
        if screen.manager.engine is None:
            screen.notify("No model loaded: press ctrl+o to pick one.", severity="warning")
            return
        messages = screen.query_one(MessageList)
        last = messages.views[-1] if messages.views else None
        if last is None:
            return
        params = self._params()
        if params is None:
            return
        if last.role == "assistant" and last.message_id is not None:
            screen.store.versions.keep(last.message_id)  # ←/→ flips back to it
            screen.store.delete_messages_from(screen.conversation_id, last.message_id)
            await messages.remove_from(last)
        await self._start(params)

    def _wait_for(self, spec: ModelSpec, prompt: PromptInput) -> None:
        if self._waiting_for is None:
            self._prompt_title = prompt.border_title
        self._waiting_for = spec
        prompt.border_title = f"Sends when {spec.name} is loaded · Esc cancels the load"
        self.screen.notify(
            f"{spec.name} is still loading: your message is sent as soon as it is ready. "
            "Esc cancels the load."
        )

    def _stop_waiting(self) -> PromptInput | None:
        """The prompt that waited for a load now finished, or None (none waits, or a newer
        load is still running)."""
        if self._waiting_for is None or self._loader.loading is not None:
            return None
        self._waiting_for = None
        prompt = self.screen.query_one(PromptInput)
        prompt.border_title = self._prompt_title
        return prompt

    def model_loaded(self) -> None:
        """Send the prompt that waited for this model, as the user left it."""
        prompt = self._stop_waiting()
        if prompt is not None:
            prompt.action_submit()

    def load_failed(self) -> bool:
        """True when a prompt waited for the failed load (it stays in the prompt, unsent)."""
        return self._stop_waiting() is not None

    def _params(self) -> GenerationParams | None:
        panel = self.screen.query_one(ParamsPanel)
        try:
            return panel.params()
        except InvalidParam as exc:
            # Open the panel at the field: a "press ctrl+t" hint toggled an open panel shut.
            panel.show_field(exc.field)
            self.screen.notify(str(exc), title="Invalid parameter", severity="error")
            return None

    async def _start(self, params: GenerationParams, sent: MessageView | None = None) -> None:
        """Start an answer to the conversation as stored (the last message is the user's).

        `sent`, the view of the message just sent, is mounted once the request is out.
        """
        screen = self.screen
        assert screen.conversation_id is not None
        spec = screen.manager.spec
        history = [
            (m.role, m.content, m.images, m.tools)
            for m in screen.store.messages(screen.conversation_id)
        ]
        chat = build_messages(
            screen.query_one(ParamsPanel).system_prompt,
            history,
            image_max_side=screen.settings.image_max_side,
        )
        chat = self._text_only.fit_to_model(screen, chat)
        mark("history-built")
        if spec is not None and not screen.settings.thinks(spec.key):
            params = dataclasses.replace(params, thinking=False)
        if screen.manager.engine is not None and spec is not None:
            params = self.tools.offer(params, screen.manager.engine, spec.name, spec.key)
        message_id = screen.store.add_message(
            screen.conversation_id, "assistant", "", model_key=spec.key if spec else None
        )
        mark("answer-stored")
        view = MessageView("assistant", "", message_id=message_id, title=answer_title(spec))
        # Styled once, as it mounts: start_stream() adding the class afterwards restyled
        # the whole message on the way to the first token.
        view.add_class("-streaming", update=False)
        self.cancel = cancel = threading.Event()
        self.view = view
        self.message_id, self._conversation = message_id, screen.conversation_id
        self._text, self._title = "", answer_title(spec)
        # The request goes out before the views are mounted, so mounting them (5-15 ms of
        # UI work) overlaps the server's time to first token instead of adding to it. The
        # UI waits, idle, until the request is written: mounting meanwhile held the GIL
        # the worker needs to send it, which reached the server ~10 ms later
        # (bench/remote_chat.py). At most SEND_FIRST_S, so a slow connect or an engine
        # that cannot tell (a local one tells at once) never holds the sent message back.
        view_ready = threading.Event()
        request_out = asyncio.Event()
        loop = asyncio.get_running_loop()

        def request_sent() -> None:  # the worker's thread
            with contextlib.suppress(RuntimeError):  # the app has closed its loop
                loop.call_soon_threadsafe(request_out.set)

        screen.run_worker(
            lambda: run_answer_in_thread(
                screen, self.tools, chat, params, view, message_id, cancel, view_ready, request_sent
            ),
            name="answer",
            group="answer",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )
        mark("worker-started")
        timer = loop.call_later(SEND_FIRST_S, request_out.set)
        try:
            await request_out.wait()
            timer.cancel()
            mark("ui-resumed")
            messages = screen.query_one(MessageList)
            if sent is not None:
                messages.add(sent)
            await messages.add(view)
            view.start_stream()
        finally:
            view_ready.set()
            mark("views-mounted")
        screen.status.set_state("generating… (Esc stops)")

    def next_round(self, view: MessageView, message_id: int) -> None:
        """A tool round's answer is now the one streaming (its own stored message)."""
        self.view, self.message_id, self._text = view, message_id, ""

    async def tools_ended(self) -> None:
        """The tool rounds' worker is done (this comes after its last chunk): an answer
        stopped between rounds ends here."""
        if self.cancel is None:
            return
        if self.view is not None:
            await self.view.end_stream()
        self.cancel, self.view, self.message_id, self._conversation = None, None, None, None
        self.screen.status.set_state("ready")

    def leave(self) -> None:
        """Another chat is about to be shown: the answer streams on into the store alone."""
        view, self.view = self.view, None
        if view is not None:
            self.screen.call_later(view.end_stream)  # its widget is being removed

    def resume(self, conversation_id: int, stored: list[StoredMessage]) -> list[StoredMessage]:
        """Reopening the chat an answer streams into: `stored` less that answer, which is
        shown (as far as it got here) and streamed into again once mounted."""
        message_id = self.message_id
        if message_id is None or conversation_id != self._conversation:
            return stored
        title = self._title
        view = MessageView("assistant", self._text, message_id=message_id, title=title)
        view.add_class("-streaming", update=False)

        async def stream_again() -> None:
            await self.screen.query_one(MessageList).add(view)
            if self.message_id != message_id:  # it ended meanwhile: show it as stored
                store = self.screen.store
                done = next(m for m in store.messages(conversation_id) if m.id == message_id)
                view.remove_class("-streaming")
                versions = store.versions.of(message_id)
                await view.show_version(done.content, done.stats, title, versions)
                return
            view.start_stream()
            if len(self._text) > len(view.content):  # text handled while it mounted
                await view.append(self._text[len(view.content) :])
            self.view = view

        self.screen.call_later(stream_again)
        return [m for m in stored if m.id != message_id]

    async def show(self, message: AnswerUpdated) -> None:
        screen = self.screen
        chunk = message.chunk
        current = message.message_id == self.message_id
        view = self.view if current else message.view
        if current:
            self._text += chunk.text
        if chunk.reasoning and view is not None:
            await view.append_reasoning(chunk.reasoning)
        if chunk.text and view is not None:
            mark("shown")
            await view.append(chunk.text)
            mark("appended")
        for notice in chunk.notices:
            title = screen.manager.spec.name if screen.manager.spec else None
            screen.notify(notice, title=title or "", markup=False)
        if not chunk.is_last:
            return
        if view is not None:
            await view.end_stream()
            if message.more and not view.content.strip() and not view.reasoning:
                view.add_class("-tool-only")  # its call blocks follow; no empty bubble
                # Kept with its calls, so it stays hidden if scrolled out and back in.
                stored = screen.store.messages(self._conversation or 0)
                view.tools = next((m.tools for m in stored if m.id == message.message_id), None)
        if current and not message.more:
            self.cancel, self.view, self.message_id, self._conversation = None, None, None, None
            screen.status.set_state("ready")
            self._show_usage()
        unsent, self._unsent = self._unsent, None
        if (
            view is not None
            and chunk.error is not None
            and await take_back(screen, message, unsent)
        ):
            error = chunk.error
            screen.notify(error.message, title=error.title, severity="error", markup=False)
            return
        if chunk.error is not None:
            error = f"{chunk.error.title}: {chunk.error.message}"
            if view is not None:  # else its chat is not shown: the store keeps how it ended
                view.set_error(error)
            # Saved, so the reopened answer shows why it ended (not as one cut by quitting).
            screen.store.set_message_stats(
                message.message_id, {"finish_reason": "error", "error": error}
            )
            screen.notify(
                chunk.error.message,
                title=chunk.error.title,
                severity="error",
                timeout=10,
                markup=False,  # a crash message quotes native log lines literally
            )
        if chunk.finished is not None:
            stats = stats_from_finished(chunk.finished)
            screen.store.set_message_stats(message.message_id, stats)
            if view is not None:
                view.set_stats(stats)
                view.set_versions(screen.store.versions.of(message.message_id))
