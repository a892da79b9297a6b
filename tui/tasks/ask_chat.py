"""Hand a task to the chat model: its prompt into the chat's prompt box (and the picture
attached, for captioning), the chat brought up. Nothing is sent: the user reads the prompt,
edits it if they like and presses Enter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App


def ask_chat(app: App[Any], prompt: str, picture: str | None = None) -> bool:
    """False when there is no chat screen to take it."""
    from tui.chat.image_command import send_picture_to_chat
    from tui.chat.prompt_input import PromptInput
    from tui.speech.push_to_talk import spaced

    chat = getattr(app, "chat", None)
    navigation = getattr(app, "navigation", None)
    if chat is None or navigation is None:
        return False
    box = chat.query_one(PromptInput)  # filled first: attaching keeps a prompt already there
    box.insert(spaced(box, prompt))
    if picture is None or not send_picture_to_chat(app, picture):
        navigation.go("chat")
    box.focus()
    return True


def hand_task_to_chat(
    app: App[Any], task: str | None, text: str, question: str, picture: Path | None
) -> None:
    """The Tasks screen's ctrl+g: the task's prompt to the chat, or a note saying why not."""
    from backends.errors import BackendError
    from backends.tasks.chat_prompts import CHAT_TASKS, PICTURE_TASKS, chat_prompt

    if task not in CHAT_TASKS:
        app.notify("ctrl+g hands summarisation, translation, question answering (of a text "
                   "or a page) or captioning to the chat model: pick one of those tasks "
                   "first.")  # fmt: skip
        return
    path = None
    if task in PICTURE_TASKS:
        if picture is None or not picture.is_file():
            app.notify("Name the picture in the file line first (Tab completes it).")
            return
        path = str(picture.absolute())
    try:
        prompt = chat_prompt(task, text, question)
    except BackendError as error:
        app.notify(error.message, title=error.title, severity="error")
        return
    if not ask_chat(app, prompt, path):
        app.notify("There is no chat to hand the task to.", severity="warning")
        return
    app.notify("Not run on the task model: the prompt is in the chat's box for the chat "
               "model. Edit it if you like and press Enter.", title="Sent to the chat")  # fmt: skip
