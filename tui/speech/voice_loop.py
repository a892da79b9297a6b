"""The chat's hands-free voice loop: F8 to speak a question, hear the answer.

F8 starts push-to-talk; F8 again transcribes into the prompt. With `tts.voice_loop_send =
"send"` the words go at once, else they wait in the prompt to be edited and sent; either way
the answer to them is read aloud as it streams (the alt+a path, for that one answer).
Pressing F8 while the app speaks (or still answers) stops both and starts listening: the user
cuts in with the next question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.chat.chat_screen import ChatScreen


def push_to_talk(screen: ChatScreen) -> None:
    """F8 in the chat: stop the speech if any, then start (or finish) a recording."""
    from tui.chat.prompt_input import PromptInput
    from tui.speech.push_to_talk import PromptDictation, toggle_dictation
    from tui.speech.read_aloud_bar import stop_reading

    prompt = screen.query_one(PromptInput)
    if not screen.query(PromptDictation):  # about to listen: silence the app first
        along = screen._read_along
        speaking = stop_reading(screen) | (along is not None and along.stop())
        if speaking:
            screen.answers.stop()  # cutting in ends the answer being read too
    send = screen.settings.tts.voice_loop_send == "send"

    def transcribed() -> None:
        screen.read_along().read_next_answer()
        if send and prompt.text.strip():
            prompt.action_submit()

    toggle_dictation(screen.app.speech, prompt, transcribed)  # type: ignore[attr-defined]
