"""The Tasks screen's results: the picture (with boxes drawn over it), a table of a batch's
items (one row each, the numbers the export writes) and the full view of one item."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from backends.tasks.export import summary_rows
from backends.tasks.protocol import Detection, ItemDone, ItemFailed
from tui.widgets.image_preview import ImagePreview

if TYPE_CHECKING:
    from tui.widgets.image_preview import Renderer


class ResultsPane(Horizontal):
    DEFAULT_CSS = """
    ResultsPane #tasks-picture { width: 40%; height: 1fr; }
    ResultsPane #tasks-picture.-hidden { display: none; }
    ResultsPane #tasks-items { height: auto; max-height: 12; }
    ResultsPane #tasks-items.-hidden { display: none; }
    ResultsPane #tasks-result { margin-top: 1; }
    """

    def __init__(self, *, renderer: Renderer, id: str | None = None) -> None:
        super().__init__(id=id)
        self._renderer = renderer

    def compose(self) -> ComposeResult:
        yield ImagePreview(renderer=self._renderer, id="tasks-picture", classes="-hidden")
        with VerticalScroll(id="tasks-results"):
            yield DataTable(id="tasks-items", cursor_type="row", classes="-hidden")
            yield Static("", id="tasks-result")

    def on_mount(self) -> None:
        table = self.query_one("#tasks-items", DataTable)
        for label in ("#", "Input", "Result", "Score"):
            table.add_column(label, key=label)

    def start(self, total: int) -> None:
        """A new run of `total` items: the table (shown for a batch) and the view emptied."""
        table = self.query_one("#tasks-items", DataTable)
        table.clear()
        table.set_class(total < 2, "-hidden")
        self.query_one("#tasks-result", Static).update("")

    def add_row(self, item: ItemDone | ItemFailed) -> None:
        (row,) = summary_rows([item])
        self.query_one("#tasks-items", DataTable).add_row(*row, key=str(item.index))

    def show(self, item: ItemDone | ItemFailed, view: RenderableType) -> None:
        """`view` in the result pane, and `item`'s picture beside it when it is one."""
        self.query_one("#tasks-result", Static).update(view)
        picture = self.query_one("#tasks-picture", ImagePreview)
        is_image = item.item.kind == "image"
        picture.set_class(not is_image, "-hidden")
        if is_image:
            detections = item.result if isinstance(item, ItemDone) else ()
            self._picture_worker(item.item.value, detections)

    @work(thread=True, exclusive=True, group="tasks-picture", exit_on_error=False)
    def _picture_worker(self, path: str, result: Any) -> None:
        from backends.tasks.detection_picture import draw_detections

        boxes = [d for d in result if isinstance(d, Detection)] if isinstance(result, tuple) else []
        try:
            picture = draw_detections(path, boxes)
        except OSError:
            return
        self.app.call_from_thread(self.query_one("#tasks-picture", ImagePreview).show, picture)
