"""Command palette entries for every chat action (ctrl+p), recents included.

Each entry names its current key, read from the live bindings (keymap remaps included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.dom import DOMNode

from backends.registry import ENGINE_LABELS

if TYPE_CHECKING:
    from textual.screen import Screen

    from backends.base import ModelSpec

# (title, help, action name on ChatScreen)
ACTIONS: list[tuple[str, str, str]] = [
    ("Pick model", "List every model and load one", "pick_model"),
    ("New chat", "Start an empty conversation", "new_chat"),
    ("Open conversations", "Search, open, rename, export chats", "open_conversations"),
    ("Stop", "Stop the answer, keeping what was written", "stop"),
    ("Regenerate", "Answer the last prompt again", "regenerate"),
    ("Edit last prompt", "Edit and resend your previous message", "edit_previous"),
    ("Copy last answer", "Copy via OSC 52", "copy_answer"),
    ("Copy last code block", "Copy via OSC 52", "copy_code"),
    ("Toggle parameters panel", "Sampling parameters and system prompt", "toggle_params"),
    ("Tools panel", "Switch tools and MCP servers on or off for this chat", "tools_panel"),
    (
        "Dictate (push to talk)",
        "Record; press again to send the words, then hear the answer",
        "push_to_talk",
    ),
    ("Read the last answer aloud", "Text to speech; Esc stops", "read_aloud"),
    ("Toggle reading answers aloud", "Sentence by sentence as they stream", "read_along"),
    ("Pause or resume the speech", "The answer being read aloud (alt+p)", "pause_speech"),
]


def key_for(screen: DOMNode, action: str) -> str | None:
    """The key bound to `action` on `screen` (any node with bindings), keymap applied."""
    bindings = screen._bindings.copy()
    if screen.app._keymap:
        bindings.apply_keymap(screen.app._keymap)
    for group in bindings.key_to_bindings.values():
        for binding in group:
            if binding.action == action:
                return screen.app.get_key_display(binding)
    return None


def _with_key(text: str, key: str | None) -> str:
    return f"{text} ({key})" if key else text


def chat_commands(screen: Screen[Any], recents: list[ModelSpec]) -> list[SystemCommand]:
    """`screen` is the chat screen (its actions run), `recents` its recent models."""
    commands = [
        SystemCommand(title, _with_key(text, key_for(screen, action)), _action(screen, action))
        for title, text, action in ACTIONS
    ]
    for number, spec in enumerate(recents, start=1):
        engine = ENGINE_LABELS.get(spec.engine, spec.engine)
        key = key_for(screen, f"switch_recent({number})")
        commands.append(
            SystemCommand(
                f"Switch to {spec.name}",
                _with_key(f"{engine} · recent model {number}", key),
                _action(screen, f"switch_recent({number})"),
            )
        )
    return commands


def _action(screen: Screen[Any], action: str) -> Callable[[], object]:
    async def run() -> None:
        await screen.run_action(action)

    return run
