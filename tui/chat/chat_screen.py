"""The chat screen: messages, prompt, params panel, model status and the device gauge.

Answers stream in a thread worker through `backends.chat.session.run_answer`, which saves
the text so far before each batch reaches the screen (as `AnswerUpdated` messages, the end
of the stream included, so it can never overtake the text). Model loads run in another
worker via the ModelManager; a failed load leaves the previous model in place.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker

from backends.base import GenerationParams, ModelSpec
from backends.chat.session import AnswerChunk, build_messages, run_answer
from backends.errors import BackendError, LoadCancelled
from backends.store.conversations import ConversationStore, stats_from_finished, title_from_prompt
from tui.backend_errors import shows_backend_errors
from tui.chat.clipboard import copy_with_notice, last_code_block
from tui.chat.message_list import MessageList
from tui.chat.message_view import MessageView
from tui.chat.model_loader import ModelLoader
from tui.chat.params_panel import ParamsPanel
from tui.chat.prompt_input import PromptInput
from tui.chat.status_line import StatusLine

if TYPE_CHECKING:
    from backends.models.manager import ModelManager
    from backends.settings import Settings
    from tui.widgets.device_gauge import DeviceGauge

PARAMS_PANEL_MIN_WIDTH = 110  # below this the side panel starts hidden (ctrl+t shows it)


class ChatScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "stop", "Stop", id="chat.stop"),
        Binding("ctrl+o", "pick_model", "Model", id="chat.pick_model"),
        Binding("ctrl+n", "new_chat", "New chat", show=False, id="chat.new"),
        Binding("ctrl+l", "open_conversations", "Chats", id="chat.conversations"),
        Binding("ctrl+r", "regenerate", "Regenerate", show=False, id="chat.regenerate"),
        Binding("alt+e", "edit_previous", "Edit last prompt", show=False, id="chat.edit"),
        Binding("ctrl+b", "copy_answer", "Copy answer", show=False, id="chat.copy_answer"),
        Binding("ctrl+g", "copy_code", "Copy code block", show=False, id="chat.copy_code"),
        Binding("ctrl+t,f2", "toggle_params", "Params", id="chat.params"),
        Binding("f5", "push_to_talk", "Talk", show=False, id="chat.talk"),
        *[
            Binding(
                f"alt+{n}",
                f"switch_recent({n})",
                f"Recent model {n}",
                show=False,
                id=f"chat.recent_{n}",
            )
            for n in range(1, 10)
        ],
    ]

    @dataclass
    class AnswerUpdated(Message):
        view: MessageView
        message_id: int
        chunk: AnswerChunk

    def __init__(
        self,
        settings: Settings,
        store: ConversationStore,
        manager: ModelManager,
        *,
        startup_model: ModelSpec | None = None,
        gauge: DeviceGauge | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        self.manager = manager
        self._startup_model = startup_model
        self._gauge_override = gauge
        self._gauge: DeviceGauge | None = None
        self._loader = ModelLoader(manager)
        self.conversation_id: int | None = None
        self._answer_cancel: threading.Event | None = None
        self._answer_view: MessageView | None = None

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The device gauge and the params panel are mounted right after the first frame
        # (see _finish_startup): psutil and the panel's widgets cost ~0.1 s of startup.
        yield StatusLine(id="status")
        with Horizontal(id="body"):
            yield MessageList(id="messages")
        yield PromptInput(id="prompt")
        yield Footer(compact=True)
        yield self._loader

    def on_mount(self) -> None:
        self.query_one(PromptInput).focus()
        self.call_after_refresh(self._finish_startup)

    async def _finish_startup(self) -> None:
        from tui.widgets.device_gauge import DeviceGauge

        self._gauge = self._gauge_override or DeviceGauge()
        panel = ParamsPanel(
            self.settings.sampling.to_params(), self.settings.system_prompt, id="params"
        )
        panel.display = self.app.size.width >= PARAMS_PANEL_MIN_WIDTH
        await self.mount(self._gauge, after=self.query_one(StatusLine))
        await self.query_one("#body").mount(panel)
        # Last: a model load imports its runtime and competes for the GIL.
        self._load_startup_model()

    def _load_startup_model(self) -> None:
        if self._startup_model is not None:
            self.load_model(self._startup_model)
        else:
            self._loader.load_startup_model(self.settings)

    def on_unmount(self) -> None:
        # Quitting mid-answer: end the stream so the model can be unloaded at exit.
        if self._answer_cancel is not None:
            self._answer_cancel.set()
        self._loader.cancel()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.report_worker_failure(event)  # type: ignore[attr-defined]

    @property
    def generating(self) -> bool:
        return self._answer_cancel is not None

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    # -- models ----------------------------------------------------------------------------

    def load_model(self, spec: ModelSpec) -> None:
        """Load `spec` in a worker; the previous model stays until this one is ready."""
        if self.generating:
            self.notify("Stop the answer first (Esc), then switch models.", severity="warning")
            return
        self.status.set_state(f"loading {spec.name}… (Esc cancels)")
        self.status.set_progress(None)
        self._loader.load(spec)

    @on(ModelLoader.Progressed)
    def _show_load_progress(self, message: ModelLoader.Progressed) -> None:
        if message.spec is self._loader.loading:
            self.status.set_progress(message.progress.fraction)
            self.status.set_state(f"{message.progress.message} (Esc cancels)")

    @on(ModelLoader.Loaded)
    def _model_loaded(self) -> None:
        self._show_model_state()
        self.status.set_model(self.manager.label())
        if self._gauge is not None:
            self._gauge.set_model_usage(self.manager.label(), self.manager.footprint())
            self._gauge.sample_now()

    @on(ModelLoader.Failed)
    def _model_load_failed(self, message: ModelLoader.Failed) -> None:
        self._show_model_state()
        kept = self.manager.spec
        still = f" Still using {kept.name}." if kept else ""
        if isinstance(message.error, LoadCancelled):
            self.notify(f"Loading {message.spec.name} was cancelled.{still}")
            return
        self.notify(
            f"{message.error.message}{still}",
            title=f"{message.error.title}: {message.spec.name}",
            severity="error",
            timeout=12,
        )

    def _show_model_state(self) -> None:
        loading = self._loader.loading
        if loading is not None:
            return  # a newer load is still running and owns the status line
        self.status.hide_progress()
        self.status.set_state("ready" if self.manager.spec else "ctrl+o to pick a model")

    def action_pick_model(self) -> None:
        from tui.screens.model_picker import ModelPickerScreen

        def chosen(spec: ModelSpec | None) -> None:
            if spec is not None:
                self.load_model(spec)

        self.app.push_screen(
            ModelPickerScreen(self.settings, self.manager.recents(), self.manager.spec), chosen
        )

    def action_switch_recent(self, number: int) -> None:
        recents = self.manager.recents()
        if number > len(recents):
            self.notify(f"No recent model {number} yet. Pick models with ctrl+o.")
            return
        spec = recents[number - 1]
        if self.manager.spec is not None and spec.key == self.manager.spec.key:
            self.notify(f"{spec.name} is already loaded.")
            return
        self.load_model(spec)

    # -- sending and streaming -------------------------------------------------------------

    @on(PromptInput.Submitted)
    @shows_backend_errors
    async def _send(self, event: PromptInput.Submitted) -> None:
        if self.generating:
            self.notify("An answer is still streaming: wait, or press Esc to stop it.")
            return
        if self.manager.engine is None:
            loading = self._loader.loading
            hint = "it is still loading" if loading else "press ctrl+o to pick one"
            self.notify(f"No model loaded yet: {hint}.", severity="warning")
            return
        params = self._params()
        if params is None:
            return
        messages = self.query_one(MessageList)
        view = event.prompt.editing
        if view is not None:
            event.prompt.end_edit(clear=False)
            if self.conversation_id is not None and view.message_id is not None:
                self.store.delete_messages_from(self.conversation_id, view.message_id)
            await messages.remove_from(view)
        conversation = self._ensure_conversation(event.text)
        user_id = self.store.add_message(conversation, "user", event.text)
        messages.add(MessageView("user", event.text, message_id=user_id))
        event.prompt.clear()
        await self._answer(params)

    def _params(self) -> GenerationParams | None:
        try:
            return self.query_one(ParamsPanel).params()
        except ValueError as exc:
            self.notify(str(exc), title="Invalid parameter", severity="error")
            return None

    def _ensure_conversation(self, first_prompt: str) -> int:
        panel = self.query_one(ParamsPanel)
        spec = self.manager.spec
        if self.conversation_id is None:
            self.conversation_id = self.store.create_conversation(
                title_from_prompt(first_prompt),
                model_key=spec.key if spec else None,
                system_prompt=panel.system_prompt,
            )
        else:
            summary = self.store.get_conversation(self.conversation_id)
            if summary is not None and summary.system_prompt != panel.system_prompt:
                self.store.set_system_prompt(self.conversation_id, panel.system_prompt)
            if spec is not None and summary is not None and summary.model_key != spec.key:
                self.store.set_model(self.conversation_id, spec.key)
        return self.conversation_id

    async def _answer(self, params: GenerationParams) -> None:
        """Start an answer to the conversation as stored (the last message is the user's)."""
        assert self.conversation_id is not None
        spec = self.manager.spec
        history = [(m.role, m.content) for m in self.store.messages(self.conversation_id)]
        chat = build_messages(self.query_one(ParamsPanel).system_prompt, history)
        message_id = self.store.add_message(
            self.conversation_id, "assistant", "", model_key=spec.key if spec else None
        )
        view = MessageView("assistant", "", message_id=message_id, title=_answer_title(spec))
        await self.query_one(MessageList).add(view)
        self._answer_cancel = cancel = threading.Event()
        self._answer_view = view
        view.start_stream()
        self.status.set_state("generating… (Esc stops)")
        self._answer_worker(chat, params, view, message_id, cancel)

    @work(thread=True, exclusive=True, group="answer", exit_on_error=False)
    def _answer_worker(
        self,
        chat: list,  # type: ignore[type-arg]
        params: GenerationParams,
        view: MessageView,
        message_id: int,
        cancel: threading.Event,
    ) -> None:
        def persist(text: str) -> None:
            self.store.set_message_content(message_id, text)

        def on_chunk(chunk: AnswerChunk) -> None:
            self.post_message(self.AnswerUpdated(view, message_id, chunk))

        with self.manager.engine_in_use() as engine:
            if engine is None:
                on_chunk(AnswerChunk(error=BackendError("No model is loaded.")))
                return
            run_answer(engine, chat, params, cancel=cancel, persist=persist, on_chunk=on_chunk)

    @on(AnswerUpdated)
    @shows_backend_errors
    async def _show_answer(self, message: AnswerUpdated) -> None:
        chunk, view = message.chunk, message.view
        if chunk.text:
            await view.append(chunk.text)
        for notice in chunk.notices:
            self.notify(notice, title=self.manager.spec.name if self.manager.spec else None)
        if not chunk.is_last:
            return
        await view.end_stream()
        if view is self._answer_view:
            self._answer_cancel, self._answer_view = None, None
            self.status.set_state("ready")
            if self._gauge is not None:
                self._gauge.set_model_usage(self.manager.label(), self.manager.footprint())
        if chunk.error is not None:
            view.set_error(f"{chunk.error.title}: {chunk.error.message}")
            self.notify(chunk.error.message, title=chunk.error.title, severity="error", timeout=10)
        if chunk.finished is not None:
            stats = stats_from_finished(chunk.finished)
            view.set_stats(stats)
            self.store.set_message_stats(message.message_id, stats)

    # -- actions ---------------------------------------------------------------------------

    def action_stop(self) -> None:
        """Esc: cancel dictation, else stop the answer (keeping it), else cancel a load, else
        leave edit mode,
        else leave the params panel (closing it where it covers the chat) for the prompt."""
        from tui.speech.push_to_talk import cancel_dictation

        prompt = self.query_one(PromptInput)
        if cancel_dictation(self):
            pass
        elif self._answer_cancel is not None:
            self._answer_cancel.set()
            self.status.set_state("stopping…")
        elif self._loader.cancel():
            self.status.set_state("cancelling the load…")
        elif prompt.editing is not None:
            prompt.end_edit(clear=True)
        elif not prompt.has_focus:
            panel = self.query(ParamsPanel)
            if (
                panel
                and panel.first().has_focus_within
                and self.size.width < PARAMS_PANEL_MIN_WIDTH
            ):
                panel.first().display = False
            prompt.focus()

    @shows_backend_errors
    async def action_regenerate(self) -> None:
        if self.generating or self.conversation_id is None:
            return
        if self.manager.engine is None:
            self.notify("No model loaded: press ctrl+o to pick one.", severity="warning")
            return
        messages = self.query_one(MessageList)
        last = messages.views[-1] if messages.views else None
        if last is None:
            return
        params = self._params()
        if params is None:
            return
        if last.role == "assistant" and last.message_id is not None:
            self.store.delete_messages_from(self.conversation_id, last.message_id)
            await messages.remove_from(last)
        await self._answer(params)

    def action_edit_previous(self) -> None:
        views = [v for v in self.query_one(MessageList).views if v.role == "user"]
        if not views or self.generating:
            return
        editing = self.query_one(PromptInput).editing
        if editing in views:
            index = views.index(editing)
            target = views[index - 1] if index > 0 else views[index]
        else:
            target = views[-1]
        self._start_edit(target)

    @on(PromptInput.PageRequested)
    def _page_messages(self, event: PromptInput.PageRequested) -> None:
        messages = self.query_one(MessageList)
        if event.direction < 0:
            messages.scroll_page_up()
        else:
            messages.scroll_page_down()

    @on(PromptInput.EditPreviousRequested)
    def _edit_from_prompt(self) -> None:
        self.action_edit_previous()

    @on(MessageView.EditRequested)
    def _edit_requested(self, event: MessageView.EditRequested) -> None:
        if not self.generating:
            self._start_edit(event.view)

    def _start_edit(self, view: MessageView) -> None:
        view.scroll_visible()
        self.query_one(PromptInput).start_edit(view)

    def action_copy_answer(self) -> None:
        view = self.query_one(MessageList).last("assistant")
        if view is None or not view.content:
            self.notify("There is no answer to copy yet.")
            return
        copy_with_notice(
            self.app, view.content, f"the last answer ({len(view.content)} characters)"
        )

    def action_copy_code(self) -> None:
        view = self.query_one(MessageList).last("assistant")
        code = last_code_block(view.content) if view else None
        if code is None:
            self.notify("The last answer has no code block to copy.")
            return
        copy_with_notice(self.app, code, f"a code block ({len(code.splitlines())} lines)")

    def action_push_to_talk(self) -> None:
        """F5 starts recording; F5 again transcribes into the prompt (Esc cancels)."""
        from tui.speech.push_to_talk import toggle_dictation

        toggle_dictation(self.app.speech, self.query_one(PromptInput))  # type: ignore[attr-defined]

    def action_toggle_params(self) -> None:
        if not self.query(ParamsPanel):
            return  # still starting
        panel = self.query_one(ParamsPanel)
        panel.display = not panel.display
        if panel.display:
            panel.query_one("Input").focus()
        else:
            self.query_one(PromptInput).focus()

    def action_new_chat(self) -> None:
        if self.generating:
            self.notify("Stop the answer first (Esc).")
            return
        self.conversation_id = None
        self.query_one(PromptInput).end_edit(clear=False)
        self.query_one(MessageList).clear()
        self.query_one(ParamsPanel).system_prompt = self.settings.system_prompt
        self.query_one(PromptInput).focus()

    def action_open_conversations(self) -> None:
        try:
            from tui.chat.conversations_screen import ConversationsScreen
        except ImportError:
            self.notify("The conversation list is not available in this build.")
            return
        if self.generating:
            self.notify("Stop the answer first (Esc).")
            return

        def chosen(conversation_id: int | None) -> None:
            if conversation_id is None:
                if self.conversation_id is not None and not self.store.get_conversation(
                    self.conversation_id
                ):
                    self.action_new_chat()  # the open conversation was deleted
                return
            if conversation_id < 0:
                self.action_new_chat()
            else:
                self.open_conversation(conversation_id)

        self.app.push_screen(ConversationsScreen(self.store), chosen)

    @shows_backend_errors
    def open_conversation(self, conversation_id: int) -> None:
        summary = self.store.get_conversation(conversation_id)
        if summary is None:
            self.notify("That conversation no longer exists.", severity="warning")
            return
        self.action_new_chat()
        self.conversation_id = conversation_id
        self.query_one(ParamsPanel).system_prompt = summary.system_prompt
        known = [*self.manager.recents(), *([self.manager.spec] if self.manager.spec else [])]
        names = {spec.key: spec.name for spec in known}
        self.query_one(MessageList).show_stored(self.store.messages(conversation_id), names)

    def palette_commands(self) -> list[SystemCommand]:
        """Every action of this screen, for the command palette."""
        from tui.chat.chat_commands import chat_commands

        return chat_commands(self)


def _answer_title(spec: ModelSpec | None) -> str:
    return spec.name if spec else "Assistant"
