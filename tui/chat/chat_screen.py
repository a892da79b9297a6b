"""The chat screen: messages, prompt, params panel, model status and the device gauge.

The screen composes the widgets, owns the key bindings and the `@on` handlers (Textual
collects both per screen class), and delegates the work to three plain helpers:
`AnswerFlow` (sending and streaming, answer_flow.py), `ModelSwitching` (loads, picker,
recent-model keys, model_switching.py) and `ConversationActions` (edit, copy, new, open,
conversation_actions.py).
"""

from __future__ import annotations

import contextlib
from functools import cached_property
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import Worker

from backends.errors import BackendError
from backends.store.conversations import ConversationStore
from tui.backend_errors import shows_backend_errors
from tui.chat.attachment_bar import AttachmentBar
from tui.chat.chat_bindings import CHAT_BINDINGS
from tui.chat.message_list import MessageList
from tui.chat.message_view import MessageView, import_renderer
from tui.chat.model_loader import ModelLoader
from tui.chat.model_switching import ModelSwitching
from tui.chat.params_layout import ParamsLayout
from tui.chat.prompt_input import PromptInput
from tui.chat.status_line import StatusLine
from tui.navigation import CHAT
from tui.widgets.navigation_bar import NavigationBar

if TYPE_CHECKING:
    from textual.timer import Timer

    from backends.base import ModelSpec
    from backends.models.manager import ModelManager
    from backends.settings import Settings
    from tui.chat.answer_flow import AnswerFlow
    from tui.chat.answer_worker import AnswerUpdated
    from tui.chat.conversation_actions import ConversationActions
    from tui.chat.image_command import ChatPictures
    from tui.chat.picture_message import PictureBody
    from tui.chat.tool_rounds import ToolRoundEvent
    from tui.speech.read_along import ReadAlong
    from tui.widgets.device_gauge import DeviceGauge

DRAFT_SAVE_DELAY_S = 1.0  # typing pauses this long before the draft is written


class FirstFrameShown(Message):
    """The app's first frame is on screen (sent by the app on Textual's Ready)."""


class ChatScreen(Screen[None]):
    BINDINGS = CHAT_BINDINGS
    AUTO_FOCUS = "#prompt"

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
        self._read_along: ReadAlong | None = None  # alt+a, made on first use
        self.store = store
        self.manager = manager
        self._startup_model = startup_model
        self._gauge_override = gauge
        self.gauge: DeviceGauge | None = None
        self.conversation_id: int | None = None
        self.models = ModelSwitching(self)
        self.params_layout = ParamsLayout(self)
        self._draft_timer: Timer | None = None
        self._prompt: PromptInput | None = None  # kept for the draft at unmount
        self._resumed = False

    # Made on first use (_finish_startup makes them after the first frame): their modules
    # (answer session, tool rounds, /image: 60-90 ms) are not needed for that frame. Their
    # messages are handled by name (on_answer_updated...) for the same reason.
    @cached_property
    def answers(self) -> AnswerFlow:
        from tui.chat.answer_flow import AnswerFlow

        return AnswerFlow(self, self.models.loader, self.models.show_usage)

    @cached_property
    def conversation(self) -> ConversationActions:
        from tui.chat.conversation_actions import ConversationActions

        return ConversationActions(self, self.answers)

    @cached_property
    def pictures(self) -> ChatPictures:
        from tui.chat.image_command import ChatPictures

        return ChatPictures(self)

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The device gauge and the params panel are mounted right after the first frame
        # (see _finish_startup): psutil and the panel's widgets cost ~0.1 s of startup.
        yield NavigationBar(CHAT)
        yield StatusLine(id="status")
        with Horizontal(id="body"):
            yield MessageList(id="messages")
        yield AttachmentBar(id="attachments")
        yield PromptInput(id="prompt")
        yield Footer(compact=True)
        yield self.models.loader

    def on_mount(self) -> None:
        self._prompt = self.query_one(PromptInput)
        self._prompt.focus()
        if self.settings.tts.read_aloud:  # alt+a on from the start
            self.read_along().enabled = True
        if getattr(self.app, "_dom_ready", True):  # no FirstFrameShown will come
            self.call_after_refresh(self._finish_startup)  # mounted after the first frame

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self._resumed:  # styled as it mounted, in the same batch: nothing changed since
            self._resumed = True
            event.refresh_styles = False

    @on(FirstFrameShown)
    async def _first_frame_shown(self) -> None:
        # Not call_after_refresh in on_mount: Ready is the one sign that the frame is out (a
        # mode's screen mounts inside the batch Textual holds until start-up ends, and
        # ~100 ms of _finish_startup ran before anything was drawn; bench/startup.py).
        await self._finish_startup()

    async def _finish_startup(self) -> None:
        from tui.stylesheets import STYLES, add_stylesheet
        from tui.widgets.device_gauge import DeviceGauge

        add_stylesheet(self.app, STYLES / "chat_messages.tcss")  # before a message or the panel

        self.gauge = self._gauge_override or DeviceGauge()
        from tui.chat.kept_params import kept_params

        params = kept_params(self.store, self.settings.sampling.to_params())
        panel = self.params_layout.make_panel(params, self.settings.system_prompt)
        await self.mount(self.gauge, after=self.query_one(StatusLine))
        from tui.widgets.remote_box import mount_remote_box

        # The servers' VRAM, the chat's own model named on its server's box.
        await mount_remote_box(
            self, self.settings, after=self.gauge, chat_spec=lambda: self.manager.spec
        )
        await self.query_one("#body").mount(panel)
        self.conversation.reopen_last()
        self.pictures  # noqa: B018 (made now, not on the first Enter)
        # Last: a model load imports its runtime and competes for the GIL.
        self.models.load_startup_model(self._startup_model)
        self.run_worker(import_renderer, thread=True, group="warm-up", exit_on_error=False)

    def on_unmount(self) -> None:
        # Quitting mid-answer: end the stream so the model can be unloaded at exit.
        if "answers" in self.__dict__:  # made (cached_property)
            self.answers.stop()
            self.answers.tools.close()
        self.models.loader.cancel()
        if self._prompt is not None:  # the widgets are already gone: read the one kept
            with contextlib.suppress(BackendError):  # a closed or locked store
                self.store.set_draft(self.conversation_id, self._prompt.draft)

    @on(PromptInput.Changed)
    def _draft_changed(self, event: PromptInput.Changed) -> None:
        """Typing keeps the draft in the store a moment later (it survives a crash too),
        and has a server model's connection opened for the message being typed."""
        if event.text_area.text:
            self.answers.warm()
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_SAVE_DELAY_S, self._keep_draft)

    @on(Input.Changed, "#params Input")
    def _params_changed(self) -> None:
        """A valid panel is kept for the next start (an invalid value is not, until fixed)."""
        from tui.chat.kept_params import keep_params
        from tui.chat.params_panel import InvalidParam, ParamsPanel

        try:
            params = self.query_one(ParamsPanel).params()
        except InvalidParam:
            return
        with contextlib.suppress(BackendError):
            keep_params(self.store, params)

    def _keep_draft(self) -> None:
        self._draft_timer = None
        with contextlib.suppress(BackendError):
            self.conversation.keep_draft()

    def on_resize(self, event: events.Resize) -> None:
        self.params_layout.resized(event.size.width)

    def model_unloaded(self) -> None:
        """The model was unloaded from outside the chat (its files deleted in F4)."""
        self.status.set_model(None)
        self.models.show_state()
        self.models.show_usage()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.report_worker_failure(event)  # type: ignore[attr-defined]

    @property
    def generating(self) -> bool:
        return self.answers.generating

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    # -- models ----------------------------------------------------------------------------

    def load_model(self, spec: ModelSpec) -> None:
        """Load `spec` in a worker; the previous model stays until this one is ready."""
        self.models.load(spec)

    @on(ModelLoader.Progressed)
    def _show_load_progress(self, message: ModelLoader.Progressed) -> None:
        self.models.progressed(message)

    @on(ModelLoader.Loaded)
    def _model_loaded(self) -> None:
        self.models.loaded()
        self.answers.model_loaded()

    @on(ModelLoader.Failed)
    def _model_load_failed(self, message: ModelLoader.Failed) -> None:
        self.models.failed(message, prompt_kept=self.answers.load_failed())

    def action_pick_model(self) -> None:
        self.models.pick()

    def action_switch_recent(self, number: int) -> None:
        self.models.switch_recent(number)

    # -- sending and streaming -------------------------------------------------------------

    @on(PromptInput.Submitted)
    @shows_backend_errors
    async def _send(self, event: PromptInput.Submitted) -> None:
        if not await self.pictures.run(event.text):  # /image <prompt>
            await self.answers.send(event.prompt, event.text)

    @shows_backend_errors
    async def on_answer_updated(self, message: AnswerUpdated) -> None:
        if self._read_along is not None:
            self._read_along.feed(message.chunk.text, message.chunk.is_last)
        await self.answers.show(message)

    @shows_backend_errors
    async def on_tool_round_event(self, event: ToolRoundEvent) -> None:
        await self.answers.tools.show(event)

    @shows_backend_errors
    async def action_regenerate(self) -> None:
        await self.answers.regenerate()

    def action_stop(self) -> None:
        """Esc: stop what runs, else step back (stop_keys.py)."""
        from tui.chat.stop_keys import escape

        escape(self)

    def action_interrupt(self) -> None:
        """ctrl+c: copy a selection, else stop the answer (stop_keys.py)."""
        from tui.chat.stop_keys import interrupt

        interrupt(self)

    # -- the conversation ------------------------------------------------------------------

    def action_edit_previous(self) -> None:
        """alt+e (↑ in an empty prompt does the same, silently when there is nothing)."""
        if not self.generating and not any(
            v.role == "user" for v in self.query_one(MessageList).views
        ):
            self.notify("No message to edit yet: send one first.")
            return
        self.conversation.edit_previous()

    @on(PromptInput.EditPreviousRequested)
    def _edit_from_prompt(self) -> None:
        self.conversation.edit_previous()

    @on(PromptInput.FlipRequested)
    @shows_backend_errors
    async def _flip_answer(self, event: PromptInput.FlipRequested) -> None:
        await self.conversation.flip_answer(event.step)

    @on(MessageView.EditRequested)
    def _edit_requested(self, event: MessageView.EditRequested) -> None:
        self.conversation.start_edit(event.view)

    @on(PromptInput.PageRequested)
    def _page_messages(self, event: PromptInput.PageRequested) -> None:
        messages = self.query_one(MessageList)
        if event.direction < 0:
            messages.scroll_page_up()
        else:
            messages.scroll_page_down()

    def action_copy_answer(self) -> None:
        self.conversation.copy_answer()

    def action_copy_code(self) -> None:
        self.conversation.copy_code()

    def action_push_to_talk(self) -> None:
        """F8 starts recording (stopping any speech); F8 again transcribes into the prompt,
        sent at once or left to edit (tts.voice_loop_send), and the answer is read aloud."""
        from tui.speech.voice_loop import push_to_talk

        push_to_talk(self)

    def action_read_along(self) -> None:
        """alt+a: read every answer aloud as it streams, sentence by sentence (toggle)."""
        on = self.read_along().toggle()
        self.notify(f"Reading answers aloud as they stream: {'On' if on else 'Off'} (alt+a).")

    def read_along(self) -> ReadAlong:
        """The reader of streaming answers (alt+a, the voice loop), made on first use."""
        if self._read_along is None:
            from tui.speech.read_along import chat_read_along

            self._read_along = chat_read_along(self)
        return self._read_along

    def action_pause_speech(self) -> None:
        """alt+p pauses or resumes the answer being read aloud."""
        from tui.speech.read_aloud_bar import pause_speech

        if pause_speech(self.app.tts, self) is None:  # type: ignore[attr-defined]
            self.notify("Nothing is being read aloud (alt+r reads the last answer).")

    def action_read_aloud(self) -> None:
        """alt+r reads the last answer aloud (Esc or alt+r again stops)."""
        from tui.speech.read_aloud_bar import read_last_answer

        view = self.query_one(MessageList).last("assistant")
        tts = self.app.tts  # type: ignore[attr-defined]
        read_last_answer(tts, view.content if view else None, self.query_one(PromptInput))

    def action_attach_image(self) -> None:
        """F9: attach an image to the next message (a path, Tab completes)."""
        from tui.chat.attach_dialog import ask_for_image

        ask_for_image(self)

    @shows_backend_errors
    async def action_make_picture(self) -> None:
        """shift+F5: a picture of what the prompt says, as /image would make it."""
        text = self.query_one(PromptInput).text.strip()
        if not text:
            self.notify("Write what the picture should show, then shift+F5 (or /image …).")
            return
        await self.pictures.run(text if text.startswith("/image") else f"/image {text}")

    def action_attach_picture(self) -> None:
        """alt+i: attach the newest picture of the chat to the next message."""
        self.pictures.attach_last()

    def on_picture_body_attach_requested(self, event: PictureBody.AttachRequested) -> None:
        self.pictures.attach(event.path)

    def action_tools_panel(self) -> None:
        """alt+t: switch tools and MCP servers on or off for this chat."""
        from tui.chat.tools_panel import open_tools_panel

        open_tools_panel(self)

    def action_clear_images(self) -> None:
        self.query_one(AttachmentBar).clear()

    def action_toggle_params(self) -> None:
        self.params_layout.toggle()

    def action_new_chat(self) -> None:
        self.conversation.new_chat()

    def action_open_conversations(self) -> None:
        self.conversation.open_list()

    @shows_backend_errors
    def open_conversation(self, conversation_id: int) -> None:
        self.conversation.open(conversation_id)

    def palette_commands(self) -> list[SystemCommand]:
        """Every action of this screen, for the command palette."""
        from tui.chat.chat_commands import chat_commands

        return chat_commands(self, self.manager.recents())
