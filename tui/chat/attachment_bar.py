"""Images waiting to go with the next message: a one-line bar above the prompt.

F9 opens a path input (with completion) to attach an image (tui/chat/attach_dialog.py);
shift+F9 clears them. The bar is hidden while nothing is attached. The files are copied into
the data dir only when the message is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual.widgets import Static


class AttachmentBar(Static):
    DEFAULT_CSS = """
    AttachmentBar { height: 1; padding: 0 1; color: $text-muted; display: none; }
    AttachmentBar.-some { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._paths: list[Path] = []

    @property
    def paths(self) -> list[Path]:
        return list(self._paths)

    def add(self, path: Path) -> None:
        if path not in self._paths:
            self._paths.append(path)
        self._show()

    def set(self, paths: Iterable[str | Path]) -> None:
        self._paths = [Path(p) for p in paths]
        self._show()

    def clear(self) -> None:
        self._paths = []
        self._show()

    def _show(self) -> None:
        self.set_class(bool(self._paths), "-some")
        line = Text("📎 ")
        line.append(" · ".join(p.name for p in self._paths), style="bold")
        line.append("   F9 adds · shift+F9 clears", style="dim")
        self.update(line)
