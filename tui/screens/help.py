"""Every key, generated from the live bindings (so keymap remaps show up here too)."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding, Keymap
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from tui.stylesheets import STYLES

# Sections: a title and the DOM node (or class) whose own BINDINGS are listed.
Section = tuple[str, "DOMNode | type[DOMNode]"]


def own_bindings(source: DOMNode | type[DOMNode], keymap: Keymap | None = None) -> list[Binding]:
    """Bindings declared by the project's classes (not Textual's), keys as currently mapped."""
    cls = source if isinstance(source, type) else type(source)
    own_ids = {
        b.id or b.action
        for klass in cls.__mro__
        if klass.__module__.startswith("tui.")
        for b in klass.__dict__.get("BINDINGS", [])
        if isinstance(b, Binding)
    }
    bindings_map = source._merge_bindings() if isinstance(source, type) else source._bindings.copy()
    if keymap:
        bindings_map.apply_keymap(keymap)
    seen: dict[str, Binding] = {}
    for _key, bindings in bindings_map.key_to_bindings.items():
        for binding in bindings:
            if (binding.id or binding.action) in own_ids and binding.description:
                seen.setdefault(f"{binding.action}|{binding.key}", binding)
    return list(seen.values())


def _rows(screen: ModalScreen[None], bindings: list[Binding]) -> list[tuple[str, str, str]]:
    """One row per action; numbered variants (`switch_recent(3)`) fold into one row."""
    grouped: dict[str, tuple[list[str], str, list[str]]] = {}
    for binding in bindings:
        numbered = re.fullmatch(r"\w+\(\d+\)", binding.action) is not None
        base = binding.action.split("(", 1)[0] if numbered else binding.action
        description = (
            re.sub(r" \d+$", " 1-9", binding.description) if numbered else (binding.description)
        )
        keys, _, ids = grouped.setdefault(base, ([], description, []))
        display = screen.app.get_key_display(binding)
        if display not in keys:
            keys.append(display)
        if binding.id and binding.id not in ids:
            ids.append(binding.id)
    rows = []
    for keys, description, ids in grouped.values():
        if len(keys) > 3:
            rows.append((f"{keys[0]} … {keys[-1]}", description, f"{ids[0]} …"))
        else:
            rows.append((" / ".join(keys), description, ", ".join(ids)))
    return rows


class HelpScreen(ModalScreen[None]):
    CSS_PATH = STYLES / "modals.tcss"  # parsed as the screen first opens
    BINDINGS = [Binding("escape,f1,q", "close", "Close", id="help.close")]

    def __init__(self, sections: list[Section]) -> None:
        super().__init__()
        self._sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Label("Keys", classes="help-title")
            yield DataTable(id="help-table", cursor_type="none", show_header=False)
            yield Static(
                "Esc close · ctrl+p: every command · remap: [keymap] in config.toml",
                classes="help-footer",
                markup=False,
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Keys", "Action", "Binding id")
        for title, source in self._sections:
            rows = _rows(self, own_bindings(source, self.app._keymap))
            if not rows:
                continue
            table.add_row(f"[b]{title}[/b]", "", "")
            for keys, description, ids in rows:
                table.add_row(keys, description, ids)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
