"""A model's card: README as Markdown, tags, license, and the files to download.

GGUF repos list one row per quantization (Q4_K_M, Q8_0, …; split files together) with the
memory estimate — file + mmproj + context — and where it fits given free VRAM / RAM now; a
vision GGUF downloads its mmproj with the weights. Other repos list their files: Space marks
files, `d` downloads the marked ones (or the whole repo when none is marked).

A download of this repo that finishes while the card is open marks its rows "✓ on disk" (the
card watches the queue twice a second; reading the cache is a few stat calls).

`r` runs a downloaded model where it runs (tui/model_routes.py): a chat model in the chat
(on a GGUF card, the highlighted quant if it is on disk), a pipeline task model on the Tasks
screen, a diffusion model on Images, a Whisper model on Speech, a voice on the Speak tab.
Before the download it says to download first. The key shows on cards of a model an engine
here runs.

Public API: ModelCardScreen(session, repo_id, monitor=None, *, n_ctx=4096, now=None).
Gated/private repos (AuthRequired) open the TokenPrompt; with a token the card reloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Markdown, Static

from backends.base import ModelSpec
from backends.device import DeviceMonitor, DeviceSnapshot
from backends.errors import AuthRequired, BackendError
from backends.hub.model_card import ModelCard
from backends.models.cache_inventory import cached_files
from backends.models.gguf_quants import QuantGroup
from tui.hub.hub_session import HubSession
from tui.hub.model_results import ENGINE_LABELS, task_label
from tui.hub.token_prompt import TokenPrompt
from tui.human_units import human_bytes, human_count, relative_time

FIT_MARKS = {
    "gpu": "✓ fits GPU",
    "ram": "✓ fits RAM",
    "split": "~ GPU+RAM",
    "none": "✗ too big",
    "unknown": "? unknown",
}

QUANT_COLUMNS = (
    ("Quant", "quant"), ("Files", "files"), ("Size", "size"), ("mmproj", "mmproj"),
    ("Needs ≈", "needs"), ("Fits", "fit"), ("", "have"),
)  # fmt: skip


def free_memory(snapshot: DeviceSnapshot | None) -> tuple[int | None, int | None]:
    """(free VRAM on the roomiest GPU or None without one, free RAM) in bytes."""
    if snapshot is None:
        return None, None
    vram = max((g.memory_total - g.memory_used for g in snapshot.gpus), default=None)
    return vram, snapshot.ram_total - snapshot.ram_used


class ModelCardScreen(Screen[None]):
    """One repo's card; Esc goes back to the results."""

    DEFAULT_CSS = """
    ModelCardScreen #card-title { height: 1; padding: 0 1; text-style: bold; color: $text-accent; }
    ModelCardScreen #card-meta, ModelCardScreen #card-tags { height: auto; padding: 0 1; }
    ModelCardScreen #card-tags { color: $text-muted; }
    ModelCardScreen #files-title { height: auto; padding: 0 1; margin-top: 1; text-style: bold; }
    ModelCardScreen #files { height: auto; max-height: 12; margin: 0 1; }
    ModelCardScreen #fit-note { height: auto; padding: 0 1; color: $text-muted; }
    ModelCardScreen #card-error { height: auto; padding: 0 1; color: $error; }
    ModelCardScreen #card-error.-empty, ModelCardScreen #card-tags.-empty { display: none; }
    ModelCardScreen #readme-box { height: 1fr; min-height: 4; border-top: solid $primary-muted; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="card.back"),
        Binding("d", "download", "Download", id="hub.download"),
        Binding("space", "toggle_file", "Mark file", id="card.toggle_file"),
        Binding("m", "focus_readme", "README", id="card.readme"),
        Binding("r", "run", "Run", id="card.run"),
        # The card has no navigation bar, whose "F1 Keys" the app's F1 leaves to.
        Binding("f1", "app.show_help", "Keys", id="card.help"),
    ]

    @dataclass
    class CardLoaded(Message):
        card: ModelCard
        snapshot: DeviceSnapshot | None
        on_disk: frozenset[str] = frozenset()  # repo paths of this revision already cached

    @dataclass
    class CardFailed(Message):
        error: BackendError

    def __init__(
        self,
        session: HubSession,
        repo_id: str,
        monitor: DeviceMonitor | None = None,
        *,
        n_ctx: int = 4096,
        now: datetime | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.repo_id = repo_id
        self.monitor = monitor
        self.n_ctx = n_ctx
        self.now = now
        self.card: ModelCard | None = None
        self.marked: set[str] = set()
        self._done_jobs: set[str] = set()  # finished downloads of this repo already shown

    def compose(self) -> ComposeResult:
        yield Static(self.repo_id, id="card-title")
        yield Static("Loading the card…", id="card-meta")
        yield Static("", id="card-tags")
        yield Static("", id="card-error")
        yield Static("", id="files-title")
        yield DataTable(id="files", cursor_type="row", zebra_stripes=True)
        yield Static("", id="fit-note")
        with VerticalScroll(id="readme-box"):
            yield Markdown("", id="readme")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#files").focus()
        self._done_jobs = self._finished_jobs()
        self.set_interval(0.5, self._watch_downloads)
        self.load()

    def _finished_jobs(self) -> set[str]:
        jobs = self.session.queue.jobs()
        return {j.job_id for j in jobs if j.repo_id == self.repo_id and j.state == "done"}

    def _watch_downloads(self) -> None:
        done = self._finished_jobs()
        if done - self._done_jobs:
            self._done_jobs |= done
            self.mark_on_disk()

    def mark_on_disk(self) -> None:
        """Re-read which files of this revision are cached and mark their rows."""
        card = self.card
        if card is None:
            return
        client = self.session.client
        on_disk = cached_files(client.cache_dir, card.repo_id, card.commit or card.revision)
        table: DataTable[str] = self.query_one("#files", DataTable)
        if card.is_gguf:
            for group in card.quant_groups:
                have = set(group.download_paths()) <= on_disk
                table.update_cell(group.label, "have", "✓ on disk" if have else "")
        else:
            for f in card.files:
                table.update_cell(f.path, "have", "✓ on disk" if f.path in on_disk else "")

    def load(self) -> None:
        self._error("")
        self._fetch()

    def _error(self, text: str) -> None:
        box = self.query_one("#card-error", Static)
        box.update(text)
        box.set_class(not text, "-empty")

    @work(thread=True, exclusive=True, group="hub-card", exit_on_error=False)
    def _fetch(self) -> None:
        snapshot = self.monitor.sample() if self.monitor is not None else None
        free_vram, free_ram = free_memory(snapshot)
        try:
            card = self.session.client.model_card(
                self.repo_id, free_vram=free_vram, free_ram=free_ram, n_ctx=self.n_ctx
            )
        except BackendError as exc:
            self.post_message(self.CardFailed(exc))
            return
        client = self.session.client
        on_disk = cached_files(client.cache_dir, card.repo_id, card.commit or card.revision)
        self.post_message(self.CardLoaded(card, snapshot, frozenset(on_disk)))

    @on(CardFailed)
    def _failed(self, message: CardFailed) -> None:
        error = message.error
        self.query_one("#card-meta", Static).update("")
        self._error(f"{error.title}: {error.message}")
        if isinstance(error, AuthRequired):
            self.app.push_screen(
                TokenPrompt(self.repo_id, error.message, self.session.verify_token),
                self._token_answered,
            )

    def _token_answered(self, token: object) -> None:
        if token is not None:
            self.session.use_token(token)  # type: ignore[arg-type]
            self.load()

    @on(CardLoaded)
    def _show(self, message: CardLoaded) -> None:
        card = self.card = message.card
        meta = [task_label(card.task), card.library or "—", card.license or "no license"]
        meta += [f"↓ {human_count(card.downloads)}", f"♥ {human_count(card.likes)}"]
        meta.append(f"updated {relative_time(card.updated, self.now)}")
        meta.append(
            f"runs with {ENGINE_LABELS[card.engine]}" if card.engine else "no engine here runs it"
        )
        if card.gated:
            meta.append("gated: needs access")
        if card.private:
            meta.append("private")
        self.query_one("#card-meta", Static).update("  ·  ".join(meta))
        tags = [t for t in card.tags if not t.startswith("license:")]
        tag_line = self.query_one("#card-tags", Static)
        tag_line.update("tags: " + ", ".join(tags) if tags else "")
        tag_line.set_class(not tags, "-empty")
        self._show_files(card, message.snapshot, message.on_disk)
        self.refresh_bindings()
        readme = card.readme.strip() or "*This repo has no README.*"
        self.query_one("#readme", Markdown).update(readme)

    def _show_files(
        self, card: ModelCard, snapshot: DeviceSnapshot | None, on_disk: frozenset[str]
    ) -> None:
        table: DataTable[str] = self.query_one("#files", DataTable)
        table.clear(columns=True)
        title = self.query_one("#files-title", Static)
        note = self.query_one("#fit-note", Static)
        if card.is_gguf:
            free_vram, free_ram = free_memory(snapshot)
            vram = human_bytes(free_vram) if free_vram is not None else "— (no GPU)"
            ram = human_bytes(free_ram) if free_ram is not None else "—"
            free = f"free now: VRAM {vram}, RAM {ram}"
            # d takes the marked quants, else the highlighted one (Enter too).
            title.update(f"Quantizations ({free}) — Space marks, d downloads")
            for label, key in QUANT_COLUMNS:
                table.add_column(label, key=key)
            for group in card.quant_groups:
                have = "✓ on disk" if set(group.download_paths()) <= on_disk else ""
                table.add_row(*quant_cells(group), have, key=group.label)
            note.update(
                f"Needs ≈ file + mmproj + context ({self.n_ctx} tokens of KV cache + buffers); "
                "an estimate until the model loads."
            )
        else:
            total = human_bytes(card.total_bytes)
            title.update(
                f"Files ({len(card.files)}, {total}) — Space marks, d downloads the marked "
                "files (all when none is marked)"
            )
            table.add_column("", key="mark")
            table.add_column("File", key="file")
            table.add_column("Size", key="size")
            table.add_column("", key="have")
            for f in card.files:
                have = "✓ on disk" if f.path in on_disk else ""
                table.add_row(" ", f.path, human_bytes(f.size), have, key=f.path)
            note.update("")

    # actions --------------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#files")
    def _row_selected(self) -> None:
        if self.card is not None and self.card.is_gguf:
            self.action_download()
        else:
            self.action_toggle_file()

    def _cursor_key(self) -> str | None:
        table: DataTable[str] = self.query_one("#files", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_file":
            return self.card is not None
        if action == "run":
            return self.card is not None and self.card.engine is not None
        return True

    def action_toggle_file(self) -> None:
        """Space: mark the highlighted file, or on a GGUF card the highlighted quant (its
        files and mmproj), for `d` to download the marked ones together."""
        key = self._cursor_key()
        if self.card is None or key is None:
            return
        self.marked ^= {key}
        table: DataTable[str] = self.query_one("#files", DataTable)
        if self.card.is_gguf:
            table.update_cell(key, "quant", f"✓ {key}" if key in self.marked else key)
        else:
            table.update_cell(key, "mark", "✓" if key in self.marked else " ")

    def action_download(self) -> None:
        card, key = self.card, self._cursor_key()
        if card is None or key is None:
            return
        if card.is_gguf:
            labels = self.marked or {key}
            groups = [g for g in card.quant_groups if g.label in labels]
            paths: list[str] | None = sorted({p for g in groups for p in g.download_paths()})
            what = f"{' + '.join(g.label for g in groups)} of {card.repo_id}"
            size = sum(f.size for f in card.files if f.path in set(paths or ()))
        elif self.marked:
            paths = sorted(self.marked)
            what = f"{len(paths)} file{'s' if len(paths) != 1 else ''} of {card.repo_id}"
            size = sum(f.size for f in card.files if f.path in self.marked)
        else:
            paths, what, size = None, card.repo_id, card.total_bytes
        queue = self.session.queue
        for job in queue.jobs():
            if job.repo_id == card.repo_id and job.state in ("queued", "running", "paused"):
                if paths is None or {f.path for f in job.files} >= set(paths):
                    self.notify(f"{what} is already in the download queue.")
                    return
        queue.add(card.repo_id, revision=card.revision, allow_patterns=paths)
        self.notify(f"Downloading {what} ({human_bytes(size)}). Esc shows progress in Downloads.")

    def action_run(self) -> None:
        """Open the downloaded model where it runs; before the download, say so."""
        from backends.models.downloaded_repo import downloaded_specs
        from backends.models.model_kind import KIND_PLACES
        from backends.registry import engine_kind
        from tui.model_routes import open_model

        card = self.card
        if card is None or card.engine is None:
            return
        place = KIND_PLACES.get(engine_kind(card.engine), "its screen")
        revision = card.commit or card.revision
        specs = downloaded_specs(self.session.client.cache_dir, card.repo_id, revision)
        if not specs:
            on_disk = cached_files(self.session.client.cache_dir, card.repo_id, revision)
            if on_disk:
                self.notify(
                    f"The files of {card.repo_id} on disk hold no model an engine here reads "
                    "(a part of it, or another format). Download the model files (d).",
                    title="Nothing to run",
                    severity="warning",
                )
            else:
                self.notify(
                    f"Download {card.repo_id} first (d); then r opens it on {place}.",
                    title="Not on disk yet",
                )
            return
        open_model(self.app, self._spec_to_run(card, specs))

    def _spec_to_run(self, card: ModelCard, specs: list[ModelSpec]) -> ModelSpec:
        """On a GGUF card the highlighted quant when it is on disk, else the first model."""
        key = self._cursor_key()
        group = next((g for g in card.quant_groups if g.label == key), None)
        if card.is_gguf and group is not None:
            names = {path.rsplit("/", 1)[-1] for path in group.download_paths()}
            for spec in specs:
                if spec.path and spec.path.rsplit("/", 1)[-1] in names:
                    return spec
        return specs[0]

    def action_focus_readme(self) -> None:
        self.query_one("#readme-box").focus()

    def action_back(self) -> None:
        self.app.pop_screen()


def quant_cells(group: QuantGroup) -> tuple[str, ...]:
    files = f"{len(group.files)} parts" if group.is_split else "1 file"
    mmproj = f"+{human_bytes(group.mmproj.size)}" if group.mmproj else ""
    return (
        group.label,
        files,
        human_bytes(group.size_bytes),
        mmproj,
        human_bytes(group.fit.required_bytes),
        FIT_MARKS[group.fit.place],
    )
