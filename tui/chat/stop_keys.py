"""What Esc and ctrl+c do in the chat: stop what runs (dictation, a picture, the answer,
speech, a load), else step back (edit mode, the params panel), in that order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.chat.attachment_bar import AttachmentBar
from tui.chat.prompt_input import PromptInput
from tui.speech.push_to_talk import cancel_dictation
from tui.speech.read_aloud_bar import stop_reading

if TYPE_CHECKING:
    from tui.chat.chat_screen import ChatScreen


def escape(screen: ChatScreen) -> None:
    """Esc: cancel dictation, else stop the answer (keeping it), else cancel a load, else
    leave edit mode, else leave the params panel (closing it where it covers the chat)
    for the prompt, else it prefixes the next key (Esc then 2 is Alt+2)."""
    prompt = screen.query_one(PromptInput)
    reading = stop_reading(screen)  # speech and the answer stop alike
    if screen._read_along is not None and screen._read_along.stop():
        reading = True
    if cancel_dictation(screen):
        pass
    elif screen.pictures.stop():
        screen.status.set_state("cancelling the picture…")
    elif screen.answers.stop():
        screen.status.set_state("stopping…")
    elif reading:
        pass
    elif screen.models.loader.cancel():
        screen.status.set_state("cancelling the load…")
    elif prompt.editing is not None:
        prompt.end_edit(clear=True)
        screen.query_one(AttachmentBar).clear()  # the edited message's images went with it
    elif not prompt.has_focus:
        screen.params_layout.leave()
        prompt.focus()
    else:
        screen.app.escape_prefix.arm()  # type: ignore[attr-defined]


def interrupt(screen: ChatScreen) -> None:
    """ctrl+c: copy the prompt's selection if there is one, else stop the answer (as
    Esc does), else say how to quit."""
    prompt = screen.query_one(PromptInput)
    if prompt.has_focus and prompt.selected_text:
        prompt.action_copy()
    elif screen.answers.stop():
        screen.status.set_state("stopping…")
        screen.notify("Stopped the answer (Esc does the same). ctrl+q quits.")
    else:
        screen.notify("Nothing to stop. ctrl+q quits the app; Esc stops an answer.")
