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


def path_matches(value: str, suffixes: Iterable[str] = ()) -> list[str]:
    """Every completion of `value` in its folder, sorted by name (case-insensitive).

    Folders get a trailing separator; hidden names only when the typed name starts with ".".
    """
    if not value:
        return []
    wanted = tuple(s.lower() for s in suffixes)
    expanded = os.path.expanduser(value)
    folder, partial = os.path.split(expanded)
    try:
        entries = sorted(os.scandir(folder or "."), key=lambda e: e.name.lower())
    except OSError:
        return []
    matches = []
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
        matches.append(value + entry.name[len(partial) :] + (os.sep if is_dir else ""))
    return matches


def complete_path(value: str, suffixes: Iterable[str] = ()) -> str | None:
    """The first completion of `value` (see `path_matches`), else None."""
    matches = path_matches(value, suffixes)
    return matches[0] if matches else None


class PathSuggester(Suggester):
    def __init__(self, suffixes: Iterable[str] = ()) -> None:
        # No cache: the folder may change while the screen is open.
        super().__init__(use_cache=False, case_sensitive=True)
        self.suffixes = tuple(suffixes)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value, self.suffixes)


class PathInput(Input):
    """An Input with path completion: the suggestion shows dimmed; Tab or → takes it.

    With several matches, Tab takes the first and lists them in a notice; Tab again takes
    the next, round the list. Typing anything else ends the round.
    """

    BINDINGS = [
        Binding("tab", "complete", "Complete path", show=False, id="path_input.complete"),
    ]

    MAX_LISTED = 8  # names listed in the notice; the rest are counted

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
        self._suffixes = tuple(suffixes)
        self._round: list[str] = []  # the matches Tab goes round, while the value is one
        self._at = 0

    @property
    def path(self) -> Path | None:
        text = self.value.strip()
        return Path(text).expanduser() if text else None

    def action_complete(self) -> None:
        """Take the next match; with none to take, Tab moves focus as usual."""
        if self._round and self.value == self._round[self._at]:
            self._at = (self._at + 1) % len(self._round)
            self._take(self._round[self._at])
            return
        matches = path_matches(self.value, self._suffixes) if self.cursor_at_end else []
        if not matches:
            self._round = []
            self.screen.focus_next()
            return
        self._round, self._at = (matches, 0) if len(matches) > 1 else ([], 0)
        self._take(matches[0])
        if self._round:
            self.notify(matches_notice(matches, self.MAX_LISTED), timeout=8, markup=False)

    def _take(self, value: str) -> None:
        self.value = value
        self.cursor_position = len(value)


def matches_notice(matches: list[str], most: int) -> str:
    """ "3 matches: a.wav · b.wav · c/ — Tab takes the next one." (`most` names at most)."""
    names = [os.path.basename(m.rstrip(os.sep)) + (os.sep if m.endswith(os.sep) else "")
             for m in matches]  # fmt: skip
    listed = " · ".join(names[:most]) + (
        f" · +{len(names) - most} more" if len(names) > most else ""
    )
    return f"{len(names)} matches: {listed} — Tab takes the next one."
