"""The line at the top of every top-level screen: where the user is, and the keys elsewhere.

" Chat │ F3 Hub │ F4 Disk │ …": the open place is highlighted without its key (pressing it
does nothing); the others carry their key as the keymap has it. A click opens the place.
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text
from textual import events
from textual.widget import Widget


def key_display(app: Any, binding_id: str) -> str:
    """The key of the app binding `binding_id` after the user's keymap (F-keys as "F5")."""
    bindings = app._bindings.copy()
    if app._keymap:
        bindings.apply_keymap(app._keymap)
    for group in bindings.key_to_bindings.values():
        for binding in group:
            if binding.id == binding_id:
                key = str(app.get_key_display(binding))
                return key.upper() if re.fullmatch(r"f\d+", key) else key  # "F5", as the docs say
    return ""


class NavigationBar(Widget):
    DEFAULT_CSS = """
    NavigationBar {
        height: 1;
        background: $panel;
        color: $text-muted;
    }
    """

    def __init__(self, place: str) -> None:
        super().__init__()
        self.place = place  # the mode name of the screen this bar is on
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        # A screen tried on its own (a test's App) has no navigation: no line for it.
        self.display = getattr(self.app, "navigation", None) is not None

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        self._spans = []
        navigator = getattr(self.app, "navigation", None)  # None: a screen tried on its own
        for place in navigator.places if navigator is not None else ():
            start = text.cell_len
            if place.name == self.place:
                text.append(f" {place.title} ", style="bold reverse")
            else:
                key = key_display(self.app, place.binding_id)
                text.append(" ")
                text.append(key, style="bold")
                text.append(f" {place.title} ")
            self._spans.append((start, text.cell_len, place.name))
        help_key = key_display(self.app, "app.help")
        if help_key:
            text.append("  ")
            text.append(help_key, style="bold")
            text.append(" Keys")
        return text

    def on_click(self, event: events.Click) -> None:
        navigator = getattr(self.app, "navigation", None)
        for start, end, name in self._spans:
            if start <= event.x < end and navigator is not None:
                navigator.go(name)
