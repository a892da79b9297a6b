"""The conversation an answer goes into: made for a first prompt, kept in step with the
panel's system prompt and the loaded model, retitled when its first prompt is edited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.store.conversations import title_from_prompt
from tui.chat.conversation_actions import OPEN_CHAT
from tui.chat.params_panel import ParamsPanel

if TYPE_CHECKING:
    from backends.store.conversations import ConversationStore
    from tui.chat.chat_host import ChatHost


def ensure_conversation(screen: ChatHost, first_prompt: str) -> int:
    """The shown chat's id, made now for a first prompt; the stored system prompt and
    model follow the panel and the loaded model."""
    panel = screen.query_one(ParamsPanel)
    spec = screen.manager.spec
    if screen.conversation_id is None:
        screen.conversation_id = screen.store.create_conversation(
            title_from_prompt(first_prompt),
            model_key=spec.key if spec else None,
            system_prompt=panel.system_prompt,
        )
        screen.store.set_state(OPEN_CHAT, str(screen.conversation_id))
    else:
        summary = screen.store.get_conversation(screen.conversation_id)
        if summary is not None and summary.system_prompt != panel.system_prompt:
            screen.store.set_system_prompt(screen.conversation_id, panel.system_prompt)
        if spec is not None and summary is not None and summary.model_key != spec.key:
            screen.store.set_model(screen.conversation_id, spec.key)
    return screen.conversation_id


def retitle(store: ConversationStore, conversation: int, old_prompt: str, new_prompt: str) -> None:
    """The title follows an edited first prompt, unless the user renamed the chat."""
    summary = store.get_conversation(conversation)
    if summary is not None and summary.title == title_from_prompt(old_prompt):
        store.rename(conversation, title_from_prompt(new_prompt))
