"""Command palette entries for the Hub screen (ctrl+p): search, filters, sort, downloads.

Each entry names its current key, read from the live bindings (keymap remaps included);
the downloads entries act on the highlighted download, as `p`, `x` and Del do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.dom import DOMNode

from tui.chat.chat_commands import key_for

if TYPE_CHECKING:
    from tui.hub.hub_screen import HubScreen

# (title, help, action name on the screen)
HUB_ACTIONS: list[tuple[str, str, str]] = [
    ("Search the Hub", "Type a model name", "focus_search"),
    ("Filter by task", "Next task: text generation, speech, images…", "cycle_task"),
    ("Filter by library", "Next library: gguf, transformers, diffusers…", "cycle_library"),
    ("Only models that run here", "Toggle the 'runs here' filter", "toggle_runs_here"),
    ("Sort results", "Next order: downloads, likes, recently updated…", "cycle_sort"),
    ("Show downloads", "Move to the downloads panel", "focus_downloads"),
    ("Refresh results", "Search again", "refresh"),
]
# (title, help, action name on the downloads panel)
DOWNLOAD_ACTIONS: list[tuple[str, str, str]] = [
    ("Pause or resume download", "The highlighted download", "toggle_pause"),
    ("Cancel download", "The highlighted download; its partial files are removed", "cancel"),
    ("Remove download from the list", "The highlighted download", "remove"),
]


def hub_commands(screen: HubScreen) -> list[SystemCommand]:
    from tui.hub.downloads_panel import DownloadsPanel

    panel = screen.query_one(DownloadsPanel)
    commands = [
        SystemCommand(title, _with_key(text, key_for(screen, action)), _run(screen, action))
        for title, text, action in HUB_ACTIONS
    ]
    commands += [
        SystemCommand(title, _with_key(text, key_for(panel, action)), _run(panel, action))
        for title, text, action in DOWNLOAD_ACTIONS
    ]
    return commands


def _with_key(text: str, key: str | None) -> str:
    return f"{text} ({key})" if key else text


def _run(node: DOMNode, action: str) -> Callable[[], object]:
    async def run() -> None:
        await node.run_action(action)

    return run
