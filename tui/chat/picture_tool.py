"""`generate_image` as a tool of the chat: the model's call makes a picture the way `/image`
does (the current image model, loaded if none is; the gallery row with A1111 parameters;
a picture message stored in the conversation and shown inline) and the model hears where it
was saved, its size and seed.

It runs in the answer worker after the user allowed the call. The chat model is never
unloaded to make room (it is the one answering), so the Images screen's memory offer is not
made here. Esc cancels the picture (the model hears so); stopping the answer cancels it too.
It gives up by itself, not after `[tools] call_timeout_s`: a picture on a CPU takes minutes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.image.protocol import GenerationCancelled
from backends.tools.builtin import ToolRefused
from backends.tools.image_tool import PictureAsked, PictureMade, image_tool
from backends.tools.toolbox import APP_SOURCE, OfferedTool
from tui.chat.image_command import NO_IMAGE_MODEL, ImageCommand
from tui.chat.message_list import MessageList
from tui.chat.message_view import MessageView
from tui.chat.picture_message import PICTURE_ROLE, PictureBody

if TYPE_CHECKING:
    from backends.base import ModelSpec
    from backends.errors import BackendError
    from backends.image.jobs import JobOutcome
    from tui.chat.chat_screen import ChatScreen


def picture_tool(screen: ChatScreen) -> OfferedTool:
    """The tool, making pictures for the conversation the answer streams into."""

    def make(asked: PictureAsked) -> PictureMade:
        return _make(screen, asked)

    spec, run = image_tool(make)
    return OfferedTool(spec, APP_SOURCE, run, own_timeout=True)


def _make(screen: ChatScreen, asked: PictureAsked) -> PictureMade:
    """In the answer worker: the picture made, shown and stored; ToolRefused says why not."""
    pictures, app = screen.pictures, screen.app
    conversation, stop = screen.conversation_id, screen.answers.cancel
    if conversation is None:
        raise ToolRefused("There is no conversation to put the picture in.")
    session = pictures.images.session
    spec = session.spec if session.engine is not None else pictures.image_model()
    if spec is None:
        raise ToolRefused(NO_IMAGE_MODEL)
    size = None
    if asked.width or asked.height:
        width = asked.width or asked.height or 0
        size = (width, asked.height or width)
    command = ImageCommand(asked.prompt, steps=asked.steps, seed=asked.seed, size=size)
    view = app.call_from_thread(_open, screen, command, spec, conversation)
    body = view.query_one(PictureBody) if view is not None else None
    try:
        outcome, error = pictures.make(command, spec, body, stop=stop)
    finally:
        app.call_from_thread(_close, screen)
    if outcome is None:
        if isinstance(error, GenerationCancelled):
            text = "The user cancelled the picture; nothing was saved."
        else:
            text = f"The picture failed: {_error_text(error)}"
        if view is not None:
            app.call_from_thread(view.query_one(PictureBody).failed, text)
        raise ToolRefused(text)
    app.call_from_thread(_store, screen, view, conversation, command.prompt, outcome)
    saved, request = outcome.saved, outcome.result.request
    return PictureMade(
        path=saved.path,
        width=saved.width,
        height=saved.height,
        seed=saved.seed if saved.seed is not None else request.seed,
        steps=request.steps,
        model=saved.model,
        gallery_id=saved.id,
    )


async def _open(
    screen: ChatScreen, command: ImageCommand, spec: ModelSpec, conversation: int
) -> MessageView | None:
    """The picture's message in the chat (None when another chat is shown now)."""
    pictures = screen.pictures
    if pictures.busy:
        raise ToolRefused("A picture is being made already (/image): try again when it is done.")
    pictures.busy = True
    if screen.conversation_id != conversation:
        return None
    view = MessageView(PICTURE_ROLE, command.prompt, title=spec.name)
    await screen.query_one(MessageList).add(view)
    body = view.query_one(PictureBody)
    pictures.body = body
    body.say("Loading the image model…" if pictures.images.session.engine is None else "Starting…")
    return view


def _close(screen: ChatScreen) -> None:
    screen.pictures.job, screen.pictures.body, screen.pictures.busy = None, None, False


async def _store(
    screen: ChatScreen,
    view: MessageView | None,
    conversation: int,
    prompt: str,
    outcome: JobOutcome,
) -> None:
    """Store the picture message, and show it where its chat is on screen."""
    picture = screen.pictures.store(conversation, prompt, outcome)
    if view is not None and view.is_attached:
        await screen.pictures.show_stored(view, picture)


def _error_text(error: BackendError | None) -> str:
    return f"{error.title}: {error.message}" if error is not None else "it did not finish."
