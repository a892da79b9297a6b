"""A one-line path input that completes file and folder names as you type; Tab accepts.

Used wherever the user names a file (audio to transcribe, an image to attach, a subtitle
file to write). `suffixes` narrows file suggestions (folders are always offered, so the
user can walk into them); a leading ~ works and stays in the value.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input


def complete_path(value: str, suffixes: Iterable[str] = ()) -> str | None:
    """The first name in the typed folder that starts with the typed name, else None.

    Folders get a trailing separator; hidden names only when the typed name starts with ".".
    """
    if not value:
        return None
    wanted = tuple(s.lower() for s in suffixes)
    expanded = os.path.expanduser(value)
    folder, partial = os.path.split(expanded)
    try:
        entries = sorted(os.scandir(folder or "."), key=lambda e: e.name.lower())
    except OSError:
        return None
    for entry in entries:
        if not entry.name.startswith(partial) or entry.name == partial:
            continue
        if entry.name.startswith(".") and not partial.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if not is_dir and wanted and not entry.name.lower().endswith(wanted):
            continue
        completion = entry.name[len(partial) :] + (os.sep if is_dir else "")
        return value + completion
    return None


class PathSuggester(Suggester):
    def __init__(self, suffixes: Iterable[str] = ()) -> None:
        # No cache: the folder may change while the screen is open.
        super().__init__(use_cache=False, case_sensitive=True)
        self.suffixes = tuple(suffixes)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value, self.suffixes)


class PathInput(Input):
    """An Input with path completion: the suggestion shows dimmed; Tab or → takes it."""

    BINDINGS = [
        Binding("tab", "complete", "Complete path", show=False, id="path_input.complete"),
    ]

    def __init__(
        self,
        value: str = "",
        *,
        placeholder: str = "",
        suffixes: Iterable[str] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(
            value,
            placeholder=placeholder,
            suggester=PathSuggester(suffixes),
            id=id,
            compact=True,
        )

    @property
    def path(self) -> Path | None:
        text = self.value.strip()
        return Path(text).expanduser() if text else None

    def action_complete(self) -> None:
        """Take the suggestion; with none to take, Tab moves focus as usual."""
        if self._suggestion and self.cursor_at_end:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()
