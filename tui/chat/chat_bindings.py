"""The chat screen's key bindings, each with an id a keymap setting can remap."""

from __future__ import annotations

from textual.binding import Binding, BindingType

CHAT_BINDINGS: list[BindingType] = [
    Binding("escape", "stop", "Stop", id="chat.stop"),
    # priority: the prompt (a TextArea) binds ctrl+c to copy, which with nothing selected
    # did nothing at all; Ollama users press ctrl+c to stop an answer.
    Binding("ctrl+c", "interrupt", "Stop answer", show=False, id="chat.interrupt", priority=True),
    Binding("ctrl+o", "pick_model", "Model", id="chat.pick_model"),
    Binding("ctrl+n", "new_chat", "New chat", show=False, id="chat.new"),
    Binding("ctrl+l", "open_conversations", "Chats", id="chat.conversations"),
    Binding("ctrl+r", "regenerate", "Regenerate", show=False, id="chat.regenerate"),
    Binding("alt+e", "edit_previous", "Edit last prompt", show=False, id="chat.edit"),
    Binding("ctrl+b", "copy_answer", "Copy answer", show=False, id="chat.copy_answer"),
    Binding("ctrl+g", "copy_code", "Copy code block", show=False, id="chat.copy_code"),
    Binding("ctrl+t", "toggle_params", "Params", id="chat.params"),
    Binding("f8", "push_to_talk", "Talk", show=False, id="chat.talk"),
    Binding("alt+r", "read_aloud", "Read aloud", show=False, id="chat.read_aloud"),
    Binding("alt+a", "read_along", "Read answers aloud", show=False, id="chat.read_along"),
    Binding("alt+p", "pause_speech", "Pause speech", show=False, id="chat.pause_speech"),
    Binding("f9", "attach_image", "Attach image", show=False, id="chat.attach"),
    Binding("shift+f9", "clear_images", "Remove images", show=False, id="chat.detach"),
    Binding("shift+f5", "make_picture", "Picture", show=False, id="chat.picture"),
    Binding("alt+i", "attach_picture", "Attach picture", show=False, id="chat.attach_picture"),
    Binding("alt+t", "tools_panel", "Tools", show=False, id="chat.tools"),
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
