"""Path completion: Tab takes a match, Tab again goes round the others, and they are listed."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Input

from tui.widgets.path_input import PathInput, path_matches


class PathApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PathInput(suffixes=(".wav",), id="path")
        yield Input(id="next")


def folder_of_takes(tmp_path: Path) -> str:
    for name in ("take-2.wav", "take-1.wav", "take-3.wav", "take-notes.txt", ".take-hidden.wav"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "takes").mkdir()
    return str(tmp_path / "take")


def test_matches_are_sorted_filtered_and_folders_end_with_a_separator(tmp_path: Path) -> None:
    typed = folder_of_takes(tmp_path)
    assert path_matches(typed, (".wav",)) == [
        f"{typed}-1.wav",
        f"{typed}-2.wav",
        f"{typed}-3.wav",
        f"{typed}s/",
    ]


async def test_tab_again_goes_round_the_matches_and_they_are_listed(tmp_path: Path) -> None:
    typed = folder_of_takes(tmp_path)
    app = PathApp()
    async with app.run_test(size=(120, 20)) as pilot:
        field = app.query_one(PathInput)
        field.focus()
        field.value = typed
        field.cursor_position = len(typed)
        seen = []
        for _ in range(5):
            await pilot.press("tab")
            seen.append(Path(field.value).name + ("/" if field.value.endswith("/") else ""))
        assert seen == ["take-1.wav", "take-2.wav", "take-3.wav", "takes/", "take-1.wav"]
        assert app.focused is field
        notices = [str(n.message) for n in app._notifications]
        assert notices == [
            "4 matches: take-1.wav · take-2.wav · take-3.wav · takes/ — Tab takes the next one."
        ]
        # Typing ends the round: Tab completes what is typed now.
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await pilot.press("tab")
        assert field.value == f"{typed}-1.wav"


async def test_tab_with_nothing_to_complete_moves_on(tmp_path: Path) -> None:
    app = PathApp()
    async with app.run_test(size=(120, 20)) as pilot:
        field = app.query_one(PathInput)
        field.focus()
        field.value = str(tmp_path / "nothing-here")
        await pilot.press("tab")
        assert app.focused is app.query_one("#next", Input)
