"""`/image <prompt>` (and shift+F5) in the chat: a picture made with the image model, shown
inline as its own message.

The Images screen's parts do the work: its model session (the image model loaded last,
remembered across runs, is loaded when none is, after the same memory offer),
`backends.image.jobs.run_job` (the PNG with its A1111 parameters and the gallery row, exactly
as there) and its job lock (a queue running there and a picture asked for here take turns on
the one engine). The picture is stored with the conversation as a "picture" message: the
prompt as its text, the PNG as its image, the parameters and gallery id in its stats.

`ChatPictures` is a plain helper the chat screen delegates to, like `AnswerFlow`.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backends.errors import BackendError
from backends.image.protocol import GenerationCancelled, ImageRequest, ImageStep, check_size
from tui.chat.attachment_bar import AttachmentBar
from tui.chat.image_command_text import MAX_SEED, CommandError, ImageCommand, parse_image_command
from tui.chat.message_list import MessageList
from tui.chat.message_view import MessageView
from tui.chat.picture_message import PICTURE_ROLE, PictureBody, picture_stats

if TYPE_CHECKING:
    from textual.app import App

    from backends.base import ModelSpec
    from backends.image.jobs import ImageJob, JobOutcome
    from tui.chat.chat_screen import ChatScreen
    from tui.images.image_access import ImageAccess

STEP_FLUSH_S = 0.05  # as on the Images screen: the UI never steals the engine's CPU
NO_IMAGE_MODEL = (
    "There is no image model to make the picture with. Download one in the Hub (F3, "
    "filter: library diffusers), add a folder of checkpoints to model_dirs, or an image "
    "server under [[servers]] in config.toml; then pick it on the Images screen (F5, ctrl+o)."
)


@dataclass(frozen=True)
class StoredPicture:
    """A picture message as stored: its id, its stats and its image's stored copy."""

    message_id: int
    stats: dict[str, Any]
    images: tuple[str, ...]


class ChatPictures:
    """The picture being made for the chat (one at a time), and the last one shown."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        self.job: ImageJob | None = None
        self.body: PictureBody | None = None
        self.busy = False  # from the command (or tool call) to the picture, loading included

    @property
    def images(self) -> ImageAccess:
        return self.screen.app.images  # type: ignore[attr-defined, no-any-return]

    def stop(self) -> bool:
        """Esc: cancel the picture being made (the engine host ends it within a second)."""
        if self.job is None or self.job.cancel.is_set():
            return False
        self.job.cancel.set()
        if self.body is not None:
            self.body.say("Cancelling…")
        return True

    async def run(self, text: str) -> bool:
        """Handle `text` if it is an image command (True); False leaves it to the chat."""
        screen = self.screen
        try:
            command = parse_image_command(text)
        except CommandError as error:
            screen.notify(str(error), title="/image", severity="warning", markup=False)
            return True
        if command is None:
            return False
        await self.generate(command)
        return True

    async def generate(self, command: ImageCommand) -> None:
        screen = self.screen
        if self.busy:
            screen.notify("A picture is being made: wait, or press Esc to cancel it.")
            return
        if screen.generating:
            screen.notify("An answer is still streaming: wait, or press Esc to stop it.")
            return
        self.busy = True
        try:
            await self._generate(command)
        except BaseException:
            self.busy = False
            raise

    async def _generate(self, command: ImageCommand) -> None:
        screen, session = self.screen, self.images.session
        spec = session.spec
        unload_chat = False
        if session.engine is None:
            spec = await asyncio.to_thread(self.image_model)
            if spec is None:
                self.busy = False
                screen.notify(NO_IMAGE_MODEL, title="No image model", severity="warning")
                return
            unload_chat = await self._room_for(spec)
        assert spec is not None
        from tui.chat.answer_conversation import ensure_conversation
        from tui.chat.prompt_input import PromptInput

        screen.query_one(PromptInput).clear()
        conversation = ensure_conversation(screen, command.prompt)
        view = MessageView(PICTURE_ROLE, command.prompt, title=spec.name)
        self.body = None
        await screen.query_one(MessageList).add(view)
        body = view.query_one(PictureBody)
        self.body = body
        body.say("Loading the image model…" if session.engine is None else "Starting…")
        screen.status.set_state("making a picture… (Esc cancels)")
        screen.run_worker(
            lambda: self._work(command, spec, view, conversation, unload_chat),
            name="picture",
            group="chat-picture",
            thread=True,
            exit_on_error=False,
        )

    def image_model(self) -> ModelSpec | None:
        """The image model loaded last (any run), else the first one found on disk."""
        from backends.image.catalog import discover_image_models
        from backends.image.session import last_model

        settings = self.screen.settings
        remembered = last_model(settings)
        if remembered is not None:
            return remembered
        found = discover_image_models(settings)
        return found[0] if found else None

    async def _room_for(self, spec: ModelSpec) -> bool:
        """The Images screen's memory offer: True to unload the chat model first."""
        from tui.images.room_offer import room_question

        settings = self.screen.settings
        question = await asyncio.to_thread(room_question, self.screen.app, settings, spec)
        if question is None:
            return False
        if settings.images.unload_chat_model != "ask":
            return True
        from tui.screens.confirm import ConfirmScreen

        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.screen.app.push_screen(
            ConfirmScreen(question, yes="unload the chat model", no="load anyway"),
            lambda unload: answer.set_result(bool(unload)),
        )
        return await answer

    def _request(self, command: ImageCommand) -> ImageRequest:
        caps = self.images.session.capabilities
        settings = self.screen.settings.images
        width, height = command.size or (caps.default_size if caps else (512, 512))
        problem = check_size(width, height, caps.size_multiple if caps else 8)
        if problem:
            raise BackendError(problem + " (--size WxH)", title="/image")
        return ImageRequest(
            prompt=command.prompt,
            negative_prompt=settings.default_negative_prompt
            if caps is None or caps.negative_prompt
            else "",
            steps=command.steps or (caps.default_steps if caps else 20),
            cfg_scale=command.cfg if command.cfg is not None else (caps.default_cfg if caps else 7),
            seed=command.seed if command.seed is not None else random.randint(0, MAX_SEED),
            width=width,
            height=height,
            live_preview=False,  # the chat shows the finished picture, not previews
        )

    def _work(
        self,
        command: ImageCommand,
        spec: ModelSpec,
        view: MessageView,
        conversation: int,
        unload_chat: bool,
    ) -> None:
        """The worker: load if needed, make the picture, save it; touches no widget."""
        outcome, error = self.make(command, spec, view.query_one(PictureBody), unload_chat)
        self.screen.app.call_from_thread(self._finish, view, conversation, outcome, error)

    def make(
        self,
        command: ImageCommand,
        spec: ModelSpec,
        body: PictureBody | None,
        unload_chat: bool = False,
        stop: threading.Event | None = None,
    ) -> tuple[JobOutcome | None, BackendError | None]:
        """Load if needed, make the picture and save it (a worker thread); progress goes to
        `body` when the picture is shown. `stop` set (the answer stopped) cancels it too."""
        from backends.image.jobs import ImageJob, run_job

        app, session = self.screen.app, self.images.session

        def say(text: str) -> None:
            if body is not None:
                body.post_message(body.Said(text))

        outcome: JobOutcome | None = None
        error: BackendError | None = None
        try:
            if session.engine is None:
                if unload_chat:
                    app.manager.unload()  # type: ignore[attr-defined]
                session.load(spec, progress=lambda p: say(p.message))
            job = ImageJob(0, self._request(command))
            self.job = job
            last_post = 0.0

            def on_step(step: ImageStep) -> None:
                nonlocal last_post
                if stop is not None and stop.is_set():
                    job.cancel.set()
                now = time.monotonic()
                if body is not None and (
                    step.step == step.total or now - last_post >= STEP_FLUSH_S
                ):
                    last_post = now
                    body.post_message(body.Stepped(step))

            say("Waiting for the Images screen's job…")
            with session.job_lock:
                engine, loaded = session.engine, session.spec
                if engine is None or loaded is None:
                    raise BackendError("The image model was unloaded.", title="No image model")
                outcome = run_job(
                    engine,
                    job,
                    model=loaded.name,
                    outputs_dir=self.screen.settings.images.resolved_outputs_dir(),
                    gallery=self.images.gallery,
                    on_step=on_step,
                    model_hash=session.model_hash(),
                )
        except BackendError as failure:
            error = failure
        except Exception as failure:  # the app never dies of an engine bug
            error = BackendError(f"{type(failure).__name__}: {failure}", title="Picture failed")
        return outcome, error

    async def _finish(
        self,
        view: MessageView,
        conversation: int,
        outcome: JobOutcome | None,
        error: BackendError | None,
    ) -> None:
        screen = self.screen
        self.job, self.busy = None, False
        screen.status.set_state("ready")
        body = view.query_one(PictureBody)
        self.body = None
        if outcome is None:
            cancelled = isinstance(error, GenerationCancelled)
            body.failed("Cancelled; nothing saved" if cancelled else _error_text(error))
            if error is not None and not cancelled:
                screen.notify(error.message, title=error.title, severity="error", markup=False)
            return
        await self.show_stored(view, self.store(conversation, view.content, outcome))

    def store(self, conversation: int, prompt: str, outcome: JobOutcome) -> StoredPicture:
        """Keep the made picture in the conversation as a "picture" message."""
        store, saved = self.screen.store, outcome.saved
        stats = picture_stats(saved, seconds=outcome.result.total_s)
        spec = self.images.session.spec
        message_id = store.add_message(
            conversation,
            PICTURE_ROLE,
            prompt,
            model_key=spec.key if spec else None,
            images=[Path(saved.path)],
        )
        store.set_message_stats(message_id, stats)
        return StoredPicture(message_id, stats, store.messages(conversation)[-1].images)

    async def show_stored(self, view: MessageView, picture: StoredPicture) -> None:
        view.message_id = picture.message_id
        view.images = picture.images
        view._stats = picture.stats  # what a remount (a long chat, scrolled back) rebuilds
        shown = picture.images[0] if picture.images else picture.stats["path"]
        await view.query_one(PictureBody).show_picture(shown, picture.stats)

    def attach_last(self) -> None:
        """Attach the newest picture of the chat to the next message (for a vision model)."""
        views = [v for v in self.screen.query_one(MessageList).views if v.role == PICTURE_ROLE]
        picture = next((v for v in reversed(views) if v.images), None)
        if picture is None:
            self.screen.notify("There is no picture in this chat yet: /image makes one.")
            return
        self.attach(picture.images[0])

    def attach(self, path: str) -> None:
        from tui.chat.prompt_input import PromptInput

        bar = self.screen.query_one(AttachmentBar)
        if Path(path) not in bar.paths:
            bar.add(Path(path))
        prompt = self.screen.query_one(PromptInput)
        if not prompt.text.strip():
            prompt.text = "What is in this picture?"
            prompt.move_cursor(prompt.document.end)
        prompt.focus()


def _error_text(error: BackendError | None) -> str:
    return f"{error.title}: {error.message}" if error is not None else "The picture failed."


def send_picture_to_chat(app: App[Any], path: str) -> bool:
    """A gallery picture to the chat: attached to the next message, the chat brought up.

    Works with the screens stacked (chat at the bottom) and with one mode per top-level
    screen (`app.navigation`); False when there is no chat screen to send it to.
    """
    from tui.chat.chat_screen import ChatScreen

    stacks = [app.screen_stack, *getattr(app, "_screen_stacks", {}).values()]
    chat = next((s for stack in stacks for s in stack if isinstance(s, ChatScreen)), None)
    if chat is None:
        return False
    chat.pictures.attach(path)
    navigation = getattr(app, "navigation", None)
    if navigation is not None:
        navigation.go("chat")
    else:
        while app.screen is not chat and len(app.screen_stack) > 1:
            app.pop_screen()
    return True
