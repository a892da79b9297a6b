"""The Models screen: search the Hub as you type, filter, sort, page lazily, open a card.

Search runs in one exclusive thread-worker group ("hub-search"): a new keystroke cancels the
stale request, and a page whose `.query` is not the current query is dropped when it arrives
(a cancelled thread may still finish). Offline (settings, --offline, or the Hub unreachable)
the screen says so in one line and lists the models already on disk instead (the demo model
included).

Typing always searches: letters pressed while the results have focus go to the search box, so
the filters live on alt keys (alt+t task, alt+l library, alt+r runs here, alt+s sort, alt+d
downloads), which work from the search box too. ↓ in the search box moves to the first result.

Public API:
    HubScreen(client_factory, queue, monitor=None, *, model_dirs=(), packaged=(), now=None,
              debounce=0.3, n_ctx=4096, page_size=30)
The download panel at the bottom posts `DownloadsPanel.DownloadFinished`, which bubbles to the
app (refresh the model catalog there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Checkbox, Footer, Input, Select, Static

from backends.device import DeviceMonitor
from backends.errors import BackendError, OfflineError
from backends.hub.client import HubClient
from backends.hub.download_queue import DownloadQueue
from backends.hub.models import TASKS, ModelPage, SearchQuery
from backends.models.cache_inventory import Inventory, scan_inventory
from backends.paths import config_file
from tui.hub.downloads_panel import DownloadsPanel
from tui.hub.hub_session import HubSession
from tui.hub.model_card_screen import ModelCardScreen
from tui.hub.model_results import TASK_LABELS, ModelResults
from tui.hub.token_prompt import TokenPrompt
from tui.widgets.navigation_bar import NavigationBar

LIBRARIES = ("transformers", "diffusers", "gguf", "ctranslate2")  # ctranslate2: faster-whisper
SORTS = (("Most downloads", "downloads"), ("Most likes", "likes"), ("Recently updated", "updated"))


class HubScreen(Screen[None]):
    """Browse and search the Hub; Enter opens a model card; downloads show at the bottom."""

    DEFAULT_CSS = """
    HubScreen #search-row { height: 1; margin: 0 1; }
    HubScreen #search { width: 1fr; }
    HubScreen #filters { height: 1; margin: 0 1; }
    HubScreen #filters Select { width: 1fr; margin-right: 1; }
    HubScreen #filter-task { max-width: 30; }
    HubScreen #filter-library { max-width: 20; }
    HubScreen #filter-sort { max-width: 24; }
    HubScreen #filter-runs { width: auto; }
    HubScreen #hub-status { height: 1; padding: 0 1; color: $text-muted; }
    HubScreen #hub-status.-offline { color: $warning; }
    HubScreen #hub-status.-error { color: $error; }
    """

    BINDINGS = [
        Binding("escape", "app.back", "Back", id="hub.back"),
        # The footer shows what fits 80 columns beside "^p palette"; the filter keys are in
        # the search box's placeholder, F1 and the README.
        Binding("slash", "focus_search", "Search", show=False, id="hub.search"),
        Binding("alt+t", "cycle_task", "Task", show=False, id="hub.task"),
        Binding("alt+l", "cycle_library", "Library", show=False, id="hub.library"),
        Binding("alt+r", "toggle_runs_here", "Runs here", show=False, id="hub.runs_here"),
        Binding("alt+s", "cycle_sort", "Sort", show=False, id="hub.sort"),
        Binding("alt+d", "focus_downloads", "Downloads", id="hub.downloads"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="hub.refresh"),
    ]

    @dataclass
    class PageLoaded(Message):
        page: ModelPage
        append: bool

    @dataclass
    class SearchFailed(Message):
        query: SearchQuery
        error: BackendError

    @dataclass
    class InventoryLoaded(Message):
        inventory: Inventory
        reason: str

    def __init__(
        self,
        client_factory: Callable[[], HubClient],
        queue: DownloadQueue,
        monitor: DeviceMonitor | None = None,
        *,
        model_dirs: Sequence[Path] = (),
        packaged: Sequence[tuple[str, Path]] = (),
        now: datetime | None = None,
        debounce: float = 0.3,
        n_ctx: int = 4096,
        page_size: int = 30,
    ) -> None:
        super().__init__()
        self.page_size = page_size
        self.session = HubSession(client_factory, queue)
        self.monitor = monitor
        self.model_dirs = tuple(model_dirs)
        self.packaged = tuple(packaged)
        self.now = now
        self.debounce = debounce
        self.n_ctx = n_ctx
        self.search_query = SearchQuery()
        self.next_cursor: str | None = None
        self.loading_more = False
        self.offline = False
        self._debounce_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield NavigationBar("hub")
        with Horizontal(id="search-row"):
            # No select-on-focus: letters typed in the results carry on the search text.
            yield Input(placeholder="Search models · ↓ results · alt+t/l/r/s filters", id="search",
                        compact=True, select_on_focus=False)  # fmt: skip
        with Horizontal(id="filters"):
            tasks = [(TASK_LABELS.get(t, t), t) for t in TASKS]
            yield Select(tasks, prompt="Any task", id="filter-task", compact=True)
            yield Select([(lib, lib) for lib in LIBRARIES], prompt="Any library",
                         id="filter-library", compact=True)  # fmt: skip
            yield Select(SORTS, value="downloads", allow_blank=False, id="filter-sort",
                         compact=True)  # fmt: skip
            yield Checkbox("Runs here", id="filter-runs", compact=True)
        yield Static("", id="hub-status")
        yield ModelResults(now=self.now, id="results")
        yield DownloadsPanel(self.session.queue)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#search", Input).focus()
        if self.session.offline:
            self._go_offline("Offline mode is on")
        else:
            self.start_search()

    # searching ------------------------------------------------------------------------------

    def current_query(self) -> SearchQuery:
        task = self.query_one("#filter-task", Select).value
        library = self.query_one("#filter-library", Select).value
        sort = self.query_one("#filter-sort", Select).value
        return SearchQuery(
            text=self.query_one("#search", Input).value,
            task=task if isinstance(task, str) else None,
            library=library if isinstance(library, str) else None,  # type: ignore[arg-type]
            runs_here=self.query_one("#filter-runs", Checkbox).value,
            sort=sort if isinstance(sort, str) else "downloads",  # type: ignore[arg-type]
            limit=self.page_size,
        )

    def start_search(self) -> None:
        """Search for what the controls say now (cancels any search in flight)."""
        if self._debounce_timer is not None:
            self._debounce_timer.stop()
            self._debounce_timer = None
        if self.offline:
            return
        self.search_query = self.current_query()
        self.next_cursor, self.loading_more = None, False
        self._status("Searching…")
        self._fetch(self.search_query, None)

    def _schedule_search(self) -> None:
        if self.debounce <= 0:
            self.start_search()
            return
        if self._debounce_timer is not None:
            self._debounce_timer.stop()
        self._debounce_timer = self.set_timer(self.debounce, self.start_search)

    @work(thread=True, exclusive=True, group="hub-search", exit_on_error=False)
    def _fetch(self, query: SearchQuery, cursor: str | None) -> None:
        try:
            page = self.session.client.search(query, cursor)
        except BackendError as exc:
            self.post_message(self.SearchFailed(query, exc))
            return
        self.post_message(self.PageLoaded(page, append=cursor is not None))

    def load_more(self) -> bool:
        """Fetch the next page of the current query; False if there is none or one is loading."""
        if self.offline or self.loading_more or self.next_cursor is None:
            return False
        self.loading_more = True
        self._status("Loading more…")
        self._fetch(self.search_query, self.next_cursor)
        return True

    @on(PageLoaded)
    def _show_page(self, message: PageLoaded) -> None:
        page = message.page
        if page.query != self.search_query:
            return  # a stale answer to an older query
        results = self.query_one(ModelResults)
        results.show_models(page.items, append=message.append)
        self.next_cursor, self.loading_more = page.next_cursor, False
        count = results.row_count
        more = " · more load as you scroll" if page.has_more else ""
        text = f"{count} model{'s' if count != 1 else ''}{more}"
        if not count and not page.has_more:
            text = "No models match. Try fewer words or other filters."
        self._status(text)
        visible_rows = results.size.height - 1  # minus the header
        if page.has_more and (not page.items or count < visible_rows):
            self.load_more()  # a filtered page came back short: fill the screen

    @on(SearchFailed)
    def _search_failed(self, message: SearchFailed) -> None:
        if message.query != self.search_query:
            return
        self.loading_more = False
        if isinstance(message.error, OfflineError):
            self._go_offline("The Hub is not reachable")
            return
        self._status(f"{message.error.title}: {message.error.message}", "-error")

    # offline ----------------------------------------------------------------------------------

    def _go_offline(self, reason: str) -> None:
        self.offline = True
        self._status(f"{reason} — showing models already on disk…", "-offline")
        self._scan_inventory(reason)

    @work(thread=True, exclusive=True, group="hub-search", exit_on_error=False)
    def _scan_inventory(self, reason: str) -> None:
        inventory = scan_inventory(self.session.client.cache_dir, self.model_dirs, self.packaged)
        self.post_message(self.InventoryLoaded(inventory, reason))

    @on(InventoryLoaded)
    def _show_inventory(self, message: InventoryLoaded) -> None:
        results = self.query_one(ModelResults)
        results.show_inventory(message.inventory.sorted("last_used"))
        n = results.row_count
        self._status(
            f"{message.reason} — showing the {n} model{'s' if n != 1 else ''} already on disk.",
            "-offline",
        )

    # controls -------------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _typed(self) -> None:
        self._schedule_search()

    @on(Input.Submitted, "#search")
    def _submitted(self) -> None:
        self.start_search()
        self.query_one(ModelResults).focus()

    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _filter_changed(self) -> None:
        self.start_search()

    def on_key(self, event: events.Key) -> None:
        search = self.query_one("#search", Input)
        results = self.query_one(ModelResults)
        if event.key == "down" and self.focused is search:
            # Handled here: left alone, the table (focused by now) also moved its cursor
            # down and the first result was skipped.
            event.stop()
            event.prevent_default()
            results.focus()
        elif self.focused is results and event.is_printable and event.character:
            if event.character == "/" or event.character == " ":
                return  # "/" is the search key itself; space has no meaning here
            # A new search, as in a browser's address bar: the letter replaces the query
            # (appending made "tiny" then "llama" search "tinyllama").
            event.stop()
            event.prevent_default()
            search.focus()
            search.value = event.character
            search.cursor_position = len(search.value)

    def _cycle(self, select_id: str, values: Sequence[str], blank: bool) -> None:
        select: Select[str] = self.query_one(select_id, Select)
        options: list[object] = ([Select.NULL] if blank else []) + list(values)
        current = select.value if select.value in options else Select.NULL
        index = options.index(current) if current in options else -1
        select.value = options[(index + 1) % len(options)]  # type: ignore[assignment]

    def palette_commands(self) -> list[SystemCommand]:
        """Search, filters, sort and the downloads' actions, for the command palette."""
        from tui.hub.hub_commands import hub_commands

        return hub_commands(self)

    def action_cycle_task(self) -> None:
        self._cycle("#filter-task", TASKS, blank=True)

    def action_cycle_library(self) -> None:
        self._cycle("#filter-library", LIBRARIES, blank=True)

    def action_cycle_sort(self) -> None:
        self._cycle("#filter-sort", [s for _, s in SORTS], blank=False)

    def action_toggle_runs_here(self) -> None:
        self.query_one("#filter-runs", Checkbox).toggle()

    def action_refresh(self) -> None:
        """Search again; after a network failure this tries the Hub again (offline mode stays)."""
        if self.session.offline:
            self.notify(
                f"Offline mode is on. To browse the Hub, set offline = false in {config_file()} "
                "(and unset LOCALAI_TUI_OFFLINE), then start without --offline."
            )
            return
        self.offline = False
        self.start_search()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_downloads(self) -> None:
        self.query_one(DownloadsPanel).focus_actionable()

    def on_screen_resume(self) -> None:
        """Back in the Hub (F3 again): typing searches, so the search box takes the focus
        the downloads list had (letters typed there did nothing)."""
        if self.focused is not None and self.focused.id == "downloads-list":
            self.query_one("#search", Input).focus()

    @on(ModelResults.NearEnd)
    def _near_end(self) -> None:
        self.load_more()

    # cards, tokens, downloads ---------------------------------------------------------------

    @on(ModelResults.RowSelected)
    def _row_selected(self) -> None:
        self.action_open_card()

    def action_open_card(self) -> None:
        results = self.query_one(ModelResults)
        key = results.selected_key()
        if key is None:
            return
        if self.offline:
            self.notify(f"{key} is on disk. Open it from the chat model picker.", timeout=4)
            return
        self.app.push_screen(
            ModelCardScreen(self.session, key, self.monitor, n_ctx=self.n_ctx, now=self.now)
        )

    @on(DownloadsPanel.AccessNeeded)
    def _access_needed(self, message: DownloadsPanel.AccessNeeded) -> None:
        job_id = message.job_id

        def answered(token: object) -> None:
            if token is None:
                return
            self.session.use_token(token)  # type: ignore[arg-type]
            self.query_one(DownloadsPanel).retry(job_id)
            self.notify(f"Token saved. Retrying {message.repo_id}.")

        self.app.push_screen(
            TokenPrompt(message.repo_id, message.message, self.session.verify_token), answered
        )

    def _status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#hub-status", Static)
        status.update(text)
        for cls in ("-offline", "-error"):
            status.set_class(cls == kind, cls)
