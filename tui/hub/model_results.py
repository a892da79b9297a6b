"""The Models table: search results from the Hub, or (offline) the models already on disk.

Rows are keyed by repo id (or inventory key offline), so appending a page never duplicates a
row. `NearEnd` is posted when the cursor comes within `prefetch` rows of the end: the screen
answers by loading the next page, so pages load lazily as the user scrolls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from backends.hub.models import ModelSummary
from backends.models.cache_inventory import InventoryItem
from tui.cell_text import clip
from tui.human_units import human_bytes, human_count, relative_time

# Short enough that the results fit 80 columns.
TASK_LABELS = {
    "text-generation": "text gen",
    "image-text-to-text": "vision chat",
    "text-to-image": "text→image",
    "automatic-speech-recognition": "speech→text",
    "feature-extraction": "embeddings",
    "text-to-speech": "text→speech",
    "text-to-audio": "text→audio",
    "token-classification": "NER/tokens",
    "text-classification": "classify text",
    "zero-shot-classification": "zero-shot text",
    "image-classification": "classify image",
    "zero-shot-image-classification": "zero-shot image",
    "object-detection": "detection",
    "audio-classification": "classify audio",
}
ENGINE_LABELS = {
    "llama_cpp": "llama.cpp",
    "transformers": "transformers",
    "diffusers": "diffusers",
    "sdcpp": "sd.cpp",
    "faster_whisper": "faster-whisper",
    "transformers_tasks": "Tasks",
    "kokoro": "Kokoro",
    "pocket_tts": "Pocket TTS",
}


def task_label(task: str | None) -> str:
    return TASK_LABELS.get(task or "", task or "—")


def where_label(item: InventoryItem) -> str:
    """Where a model on disk lives, in a few words."""
    if item.source == "hf-cache":
        return "HF cache"
    if item.source == "package":
        return "demo package"
    return str(item.path.parent)


WIDE = 100  # below this many terminal columns, headers shrink and long ids are cut


class ModelResults(DataTable[str | Text]):
    """A DataTable of models; `mode` is "hub"/"hub-narrow" (search results) or "local" (offline).

    Gated and private repos carry a bold "gated" / "private" marker after their id.
    """

    DEFAULT_CSS = """
    ModelResults { height: 1fr; }
    """

    # Enter selects the row (RowSelected); the screen opens the card. Shown in the footer.
    BINDINGS = [Binding("enter", "select_cursor", "Open card", id="hub.open")]

    @dataclass
    class NearEnd(Message):
        """The cursor is close to the last row: load more if there is more."""

        results: ModelResults

    def __init__(self, *, now: datetime | None = None, prefetch: int = 5, id: str | None = None):
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.now = now
        self.prefetch = prefetch
        self.mode = ""
        self._models: list[ModelSummary] = []  # what is shown, to lay out again on resize
        self._laid_out_for = 0  # the terminal width the rows were clipped for

    def _set_mode(self, mode: str) -> None:
        narrow = self.app.size.width < WIDE
        if mode == "hub" and narrow:
            mode = "hub-narrow"
        if mode == self.mode:
            return
        self.clear(columns=True)
        self.mode = mode
        if mode.startswith("hub"):
            downloads, likes = ("↓", "♥") if narrow else ("Downloads", "Likes")
            for label, key in (("Model", "id"), ("Task", "task"), (downloads, "downloads"),
                               (likes, "likes"), ("Updated", "updated"),
                               ("Runs with", "engine")):  # fmt: skip
                self.add_column(label, key=key)
        else:
            for label, key in (("Model", "id"), ("Engine", "engine"), ("Size", "size"),
                               ("Last used", "used"), ("Where", "where")):  # fmt: skip
                self.add_column(label, key=key)

    def show_models(self, models: Iterable[ModelSummary], *, append: bool) -> None:
        self._set_mode("hub")
        models = list(models)
        if not append:
            self.clear()
            self._models = []
        self._models += models
        self._laid_out_for = self.app.size.width
        for m in models:
            if m.repo_id in self.rows:
                continue
            marker = " private" if m.private else " gated" if m.gated else ""
            room = max(20, self.app.size.width - (53 if self.mode == "hub-narrow" else 62))
            name = Text(clip(m.repo_id, max(8, room - len(marker))))
            if marker:
                name.append(marker, style="bold")
            self.add_row(
                name,
                task_label(m.task),
                Text(human_count(m.downloads), justify="right"),
                Text(human_count(m.likes), justify="right"),
                relative_time(m.updated, self.now),
                ENGINE_LABELS.get(m.engine or "", "—"),
                key=m.repo_id,
            )

    def show_inventory(self, items: Iterable[InventoryItem]) -> None:
        self._set_mode("local")
        self.clear()
        for item in items:
            self.add_row(
                item.name,
                ENGINE_LABELS.get(item.engine or "", "—"),
                Text(human_bytes(item.size_bytes), justify="right"),
                relative_time(item.last_used, self.now),
                where_label(item),
                key=item.key,
            )

    def on_resize(self) -> None:
        """Names were clipped and columns chosen for the old width: lay the rows out again
        (the cursor stays on its model), so a widened terminal shows the full names."""
        width = self.app.size.width
        if not self.mode.startswith("hub") or width == self._laid_out_for:
            return
        selected = self.selected_key()
        self.mode = ""  # the columns, too: short or long headers by width
        self.show_models(list(self._models), append=False)
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected))

    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    @on(DataTable.RowHighlighted)
    def _maybe_near_end(self, event: DataTable.RowHighlighted) -> None:
        if self.row_count and event.cursor_row >= self.row_count - self.prefetch:
            self.post_message(self.NearEnd(self))
