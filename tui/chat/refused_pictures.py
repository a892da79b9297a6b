"""Pictures a text-only model cannot see: left out of what it gets (said once per chat
and model), or, when a server refuses the message just sent, taken back whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from backends.base import ChatMessage
from backends.chat.images import ImagesRefused, has_images, without_images
from tui.chat.attachment_bar import AttachmentBar
from tui.chat.message_list import MessageList
from tui.chat.prompt_input import PromptInput

if TYPE_CHECKING:
    from tui.chat.answer_worker import AnswerUpdated
    from tui.chat.chat_host import ChatHost


@dataclass(frozen=True)
class Unsent:
    """The message just sent, as typed: taken back whole if its pictures are refused."""

    message_id: int
    text: str
    images: list[Path]


class TextOnlyNotices:
    """Leaves pictures out for a text-only model, telling each (chat, model) pair once."""

    def __init__(self) -> None:
        # (conversation, model key) pairs already told their pictures are left out.
        self._told: set[tuple[int, str]] = set()

    def fit_to_model(self, screen: ChatHost, chat: list[ChatMessage]) -> list[ChatMessage]:
        """A text-only model gets the conversation without its pictures, told once per
        chat and model (a refusal of every later turn could not be acted on)."""
        engine = screen.manager.engine
        if engine is None or engine.capabilities.vision or not has_images(chat):
            return chat
        chat, left_out = without_images(chat)
        spec = screen.manager.spec
        told = (screen.conversation_id or 0, spec.key if spec else "")
        if told not in self._told:
            self._told.add(told)
            name = spec.name if spec else "This model"
            screen.notify(
                f"{name} reads text only: the {left_out} picture(s) earlier in this chat are "
                "left out of what it gets. Pick a vision model (ctrl+o) to talk about them.",
                title="Pictures left out",
                markup=False,
            )
        return chat


async def take_back(screen: ChatHost, message: AnswerUpdated, unsent: Unsent | None) -> bool:
    """After a server refused the pictures of the message just sent: nothing of it stays
    stored or shown, its text is back in the prompt and its pictures in the bar."""
    if (
        unsent is None
        or message.view.content
        or not isinstance(message.chunk.error, ImagesRefused)
        or screen.manager.engine is None
        or screen.manager.engine.capabilities.vision
        or screen.conversation_id is None
    ):
        return False
    conversation = screen.conversation_id
    screen.store.delete_messages_from(conversation, unsent.message_id)
    messages = screen.query_one(MessageList)
    sent = next((v for v in messages.views if v.message_id == unsent.message_id), None)
    await messages.remove_from(sent or message.view)
    if not screen.store.messages(conversation):  # it was the chat's first message
        screen.store.delete(conversation)
        screen.conversation_id = None
        messages.clear()
    prompt = screen.query_one(PromptInput)
    prompt.text = unsent.text
    prompt.move_cursor(prompt.document.end)
    screen.query_one(AttachmentBar).set(unsent.images)
    prompt.focus()
    return True
