"""The tools panel (alt+t in the chat): every tool the model may be offered, grouped by who
brings it (the app, each MCP server), each switched on or off for the chat on screen.

Space (or a click) switches the highlighted line; a source's line switches all its tools at
once, each tool's line that tool alone. Switches are stored with the conversation as they
are made (before the chat's first message they are kept until it is saved). Only what is
left on is offered to the model, and a call to a tool switched off is not run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from backends.tools.toolbox import APP_SOURCE

if TYPE_CHECKING:
    from tui.chat.chat_screen import ChatScreen
    from tui.chat.tool_rounds import ToolRounds

DESCRIPTION_WIDTH = 60


def source_label(source: str) -> str:
    return "The app's tools" if source == APP_SOURCE else f"MCP server {source}"


def switch_label(text: str, on: bool, indent: int = 0) -> str:
    """A line that says its state in words ("✓ on" / "✗ off"), not by colour alone."""
    return " " * indent + ("✓ on " if on else "✗ off") + "  " + text


class ToolsPanelScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ToolsPanelScreen { align: center middle; }
    ToolsPanelScreen > Vertical {
        width: 80%; max-width: 110; height: auto; max-height: 80%;
        border: thick $primary; background: $panel; padding: 1 2;
    }
    ToolsPanelScreen SelectionList { height: auto; max-height: 24; margin-top: 1; }
    ToolsPanelScreen .tools-note { color: $text-muted; }
    """

    BINDINGS = [Binding("escape,alt+t", "close", "Close", id="tools.close")]

    def __init__(self, rounds: ToolRounds, note: str = "") -> None:
        super().__init__()
        self.rounds = rounds
        self.note = note  # e.g. the loaded model cannot call tools
        self._labels: dict[tuple[str, str], tuple[str, int]] = {}  # value -> (text, indent)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Tools for this chat · Space switches one on or off · Esc closes")
            yield Static(self.note, classes="tools-note")
            yield SelectionList[tuple[str, str]](id="tools-list")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()
        if self.rounds.mcp_pending:
            self.query_one(".tools-note", Static).update(
                (self.note + "\n" if self.note else "") + "Connecting to the MCP servers…"
            )
            self._connect()
        else:
            self._fill([])

    @work(thread=True, exclusive=True, group="tools-panel", exit_on_error=False)
    def _connect(self) -> None:
        problems = self.rounds.merge_mcp()
        self.app.call_from_thread(self._fill, problems)

    def _fill(self, problems: list[str]) -> None:
        off = self.rounds.switched_off()
        selections: list[Selection[tuple[str, str]]] = []
        grouped = self.rounds.toolbox.by_source()
        for source in self.rounds.mcp_names:
            grouped.setdefault(source, [])  # a server that brought no tools is listed too
        self._labels.clear()

        def line(text: str, value: tuple[str, str], indent: int, disabled: bool = False) -> None:
            self._labels[value] = (text, indent)
            on = value not in off
            label = switch_label(text, on, indent)
            selections.append(
                Selection(label, value, on, id=f"line-{len(selections)}", disabled=disabled)
            )

        for source, specs in grouped.items():
            label = source_label(source) + ("" if specs else " (no tools: it did not start)")
            line(label, (source, ""), 0, disabled=not specs)
            for spec in specs:
                description = " ".join(spec.description.split())
                if len(description) > DESCRIPTION_WIDTH:
                    description = description[: DESCRIPTION_WIDTH - 1] + "…"
                text = spec.name + (f" — {description}" if description else "")
                line(text, (source, spec.name), 4)
        listing = self.query_one(SelectionList)
        listing.clear_options()
        listing.add_options(selections)
        self.query_one(".tools-note", Static).update(
            "\n".join([*filter(None, [self.note]), *problems])
        )

    @on(SelectionList.SelectionToggled)
    def _switched(self, event: SelectionList.SelectionToggled[tuple[str, str]]) -> None:
        source, tool = event.selection.value
        on = event.selection.value in event.selection_list.selected
        self.rounds.switch(source, tool, on=on)
        text, indent = self._labels[event.selection.value]
        event.selection_list.replace_option_prompt_at_index(
            event.selection_index, switch_label(text, on, indent)
        )

    def action_close(self) -> None:
        self.dismiss(None)


def open_tools_panel(screen: ChatScreen) -> None:
    """Open the panel, or say why tools are off altogether."""
    if not screen.settings.tools.enabled:
        screen.notify(
            "Tools are switched off in the config ([tools] enabled = false): set it to true "
            "to let models call tools.",
            title="Tools off",
        )
        return
    engine, spec = screen.manager.engine, screen.manager.spec
    note = ""
    if engine is not None and spec is not None and not engine.capabilities.tools:
        note = f"{spec.name} cannot call tools: these apply when a tool-capable model answers."
    screen.app.push_screen(ToolsPanelScreen(screen.answers.tools, note))
