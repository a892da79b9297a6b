"""The "Save as" line under the transcript: a suggested name, Enter writes, an existing
file is replaced only after the user says so (y), never silently."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

from backends.errors import BackendError
from backends.speech.protocol import Segment
from backends.speech.subtitles import FORMATS, write_transcript
from tui.widgets.path_input import PathInput


class TranscriptExport(Horizontal):
    """Hidden until `open()`; posts `Saved` after writing the file."""

    DEFAULT_CSS = """
    TranscriptExport { display: none; height: 1; margin: 1 1 0 1; }
    TranscriptExport.-open { display: block; }
    TranscriptExport Label { width: auto; margin-right: 1; color: $text-muted; }
    TranscriptExport #speech-export { width: 1fr; }
    """

    @dataclass
    class Saved(Message):
        path: Path
        segments: int

    def __init__(self, segments: Callable[[], Sequence[Segment]], *, id: str) -> None:
        """`segments` returns the transcript to write at the moment Enter is pressed."""
        super().__init__(id=id)
        self._segments = segments

    def compose(self) -> ComposeResult:
        yield Label("Save as")
        yield PathInput(placeholder=".txt, .srt or .vtt", suffixes=FORMATS, id="speech-export")

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self, suggested: Path) -> None:
        field = self.query_one(PathInput)
        if not field.value:
            field.value = str(suggested)
        self.add_class("-open")
        field.focus()
        field.cursor_position = len(field.value)

    def close(self) -> None:
        self.remove_class("-open")

    @on(Input.Submitted, "#speech-export")
    def _save(self, event: Input.Submitted) -> None:
        event.stop()
        path = self.query_one(PathInput).path
        if path is None:
            self.notify("Type a file name ending in .txt, .srt or .vtt.")
            return
        target = path.expanduser().absolute()
        if target.is_dir():
            self.notify(
                f"{target} is a folder. Add a file name ending in .txt, .srt or .vtt.",
                title="Cannot save there",
                severity="error",
            )
            return
        if target.exists():
            from tui.screens.confirm import ConfirmScreen

            def answered(replace: bool | None) -> None:
                if replace:
                    self._write(target)
                else:
                    self.notify("Kept the existing file. Change the name and press Enter.")
                    self.query_one(PathInput).focus()

            question = f"{target.name} already exists in {target.parent}. Replace it?"
            self.app.push_screen(ConfirmScreen(question, yes="replace", no="keep it"), answered)
            return
        self._write(target)

    def _write(self, target: Path) -> None:
        segments = list(self._segments())
        try:
            written = write_transcript(segments, target)
        except BackendError as exc:
            self.notify(exc.message, title=exc.title, severity="error", timeout=10, markup=False)
            return
        self.close()
        self.post_message(self.Saved(written, len(segments)))
