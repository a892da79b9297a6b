"""Sending a prompt and streaming its answer into the chat screen.

Answers stream in a thread worker through `backends.chat.session.run_answer`, which saves
the text so far before each batch reaches the screen (as `AnswerUpdated` messages, the end
of the stream included, so it can never overtake the text).

`AnswerFlow` is a plain helper the screen delegates to: Textual collects `@on` handlers and
`@work` methods per DOM node, so the screen keeps thin handlers and this holds the logic.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from backends.base import ChatMessage, GenerationParams, ImageAttachment, ModelSpec
from backends.chat.images import refuse_images
from backends.chat.session import AnswerChunk, build_messages, run_answer
from backends.errors import BackendError
from backends.store.conversations import stats_from_finished, title_from_prompt
from tui.chat.attachment_bar import AttachmentBar
from tui.chat.message_list import MessageList
from tui.chat.message_view import MessageView
from tui.chat.params_panel import ParamsPanel

if TYPE_CHECKING:
    from tui.chat.chat_screen import ChatScreen
    from tui.chat.prompt_input import PromptInput


@dataclass
class AnswerUpdated(Message):
    """A batch of an answer (or its end), posted by the answer worker to the screen."""

    view: MessageView
    message_id: int
    chunk: AnswerChunk


class AnswerFlow:
    """Owns the answer in progress: its view and its cancel event."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        self.cancel: threading.Event | None = None
        self.view: MessageView | None = None

    @property
    def generating(self) -> bool:
        return self.cancel is not None

    def stop(self) -> bool:
        """Ask the running answer to stop (it keeps its text); False when none runs."""
        if self.cancel is None:
            return False
        self.cancel.set()
        return True

    async def send(self, prompt: PromptInput, text: str) -> None:
        screen = self.screen
        if self.generating:
            screen.notify("An answer is still streaming: wait, or press Esc to stop it.")
            return
        if screen.manager.engine is None:
            loading = screen.models.loader.loading
            hint = "it is still loading" if loading else "press ctrl+o to pick one"
            screen.notify(f"No model loaded yet: {hint}.", severity="warning")
            return
        params = self._params()
        if params is None:
            return
        messages = screen.query_one(MessageList)
        view = prompt.editing
        if view is not None:
            prompt.end_edit(clear=False)
            if screen.conversation_id is not None and view.message_id is not None:
                screen.store.delete_messages_from(screen.conversation_id, view.message_id)
            await messages.remove_from(view)
        bar = screen.query_one(AttachmentBar)
        if bar.paths and screen.manager.engine is not None:
            if not screen.manager.engine.capabilities.vision:
                refuse_images(  # before anything is stored or sent
                    [ChatMessage("user", text, tuple(ImageAttachment(str(p)) for p in bar.paths))],
                    screen.manager.spec.name if screen.manager.spec else "This model",
                )
        conversation = self._ensure_conversation(text)
        user_id = screen.store.add_message(conversation, "user", text, images=bar.paths)
        stored = screen.store.messages(conversation)[-1].images if bar.paths else ()
        messages.add(MessageView("user", text, message_id=user_id, images=stored))
        prompt.clear()
        bar.clear()
        await self._start(params)

    async def regenerate(self) -> None:
        screen = self.screen
        if self.generating or screen.conversation_id is None:
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
            screen.store.delete_messages_from(screen.conversation_id, last.message_id)
            await messages.remove_from(last)
        await self._start(params)

    def _params(self) -> GenerationParams | None:
        try:
            return self.screen.query_one(ParamsPanel).params()
        except ValueError as exc:
            self.screen.notify(str(exc), title="Invalid parameter", severity="error")
            return None

    def _ensure_conversation(self, first_prompt: str) -> int:
        screen = self.screen
        panel = screen.query_one(ParamsPanel)
        spec = screen.manager.spec
        if screen.conversation_id is None:
            screen.conversation_id = screen.store.create_conversation(
                title_from_prompt(first_prompt),
                model_key=spec.key if spec else None,
                system_prompt=panel.system_prompt,
            )
        else:
            summary = screen.store.get_conversation(screen.conversation_id)
            if summary is not None and summary.system_prompt != panel.system_prompt:
                screen.store.set_system_prompt(screen.conversation_id, panel.system_prompt)
            if spec is not None and summary is not None and summary.model_key != spec.key:
                screen.store.set_model(screen.conversation_id, spec.key)
        return screen.conversation_id

    async def _start(self, params: GenerationParams) -> None:
        """Start an answer to the conversation as stored (the last message is the user's)."""
        screen = self.screen
        assert screen.conversation_id is not None
        spec = screen.manager.spec
        history = [
            (m.role, m.content, m.images) for m in screen.store.messages(screen.conversation_id)
        ]
        chat = build_messages(screen.query_one(ParamsPanel).system_prompt, history)
        message_id = screen.store.add_message(
            screen.conversation_id, "assistant", "", model_key=spec.key if spec else None
        )
        view = MessageView("assistant", "", message_id=message_id, title=_answer_title(spec))
        await screen.query_one(MessageList).add(view)
        self.cancel = cancel = threading.Event()
        self.view = view
        view.start_stream()
        screen.status.set_state("generating… (Esc stops)")
        screen.run_worker(
            lambda: self._run(chat, params, view, message_id, cancel),
            name="answer",
            group="answer",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _run(
        self,
        chat: list,  # type: ignore[type-arg]
        params: GenerationParams,
        view: MessageView,
        message_id: int,
        cancel: threading.Event,
    ) -> None:
        """The worker: runs in a thread, touches no widget, posts AnswerUpdated."""
        screen = self.screen

        def persist(text: str) -> None:
            screen.store.set_message_content(message_id, text)

        def on_chunk(chunk: AnswerChunk) -> None:
            screen.post_message(AnswerUpdated(view, message_id, chunk))

        with screen.manager.engine_in_use() as engine:
            if engine is None:
                on_chunk(AnswerChunk(error=BackendError("No model is loaded.")))
                return
            run_answer(engine, chat, params, cancel=cancel, persist=persist, on_chunk=on_chunk)

    async def show(self, message: AnswerUpdated) -> None:
        screen = self.screen
        chunk, view = message.chunk, message.view
        if chunk.text:
            await view.append(chunk.text)
        for notice in chunk.notices:
            screen.notify(notice, title=screen.manager.spec.name if screen.manager.spec else None)
        if not chunk.is_last:
            return
        await view.end_stream()
        if view is self.view:
            self.cancel, self.view = None, None
            screen.status.set_state("ready")
            screen.models.show_usage()
        if chunk.error is not None:
            view.set_error(f"{chunk.error.title}: {chunk.error.message}")
            screen.notify(
                chunk.error.message, title=chunk.error.title, severity="error", timeout=10
            )
        if chunk.finished is not None:
            stats = stats_from_finished(chunk.finished)
            view.set_stats(stats)
            screen.store.set_message_stats(message.message_id, stats)


def _answer_title(spec: ModelSpec | None) -> str:
    return spec.name if spec else "Assistant"
