"""Where the chat's params panel shows: beside the chat when the terminal is wide enough,
hidden below that (ctrl+t shows it over the chat), back when the terminal widens again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.chat.prompt_input import PromptInput

if TYPE_CHECKING:
    from textual.screen import Screen

    from backends.base import GenerationParams
    from tui.chat.params_panel import ParamsPanel

PARAMS_PANEL_MIN_WIDTH = 110  # below this the side panel is hidden (ctrl+t shows it)
PANEL = "ParamsPanel"  # by name: the panel's module is imported after the first frame


class ParamsLayout:
    """Shows and hides the panel of one chat screen."""

    def __init__(self, screen: Screen[None]) -> None:
        self._screen = screen
        self._auto_hidden = False  # hidden by a shrink; a widening brings it back

    def make_panel(self, params: GenerationParams, system_prompt: str) -> ParamsPanel:
        """The panel, shown only if the screen is wide enough for it."""
        from tui.chat.params_panel import ParamsPanel  # after the first frame, as the panel

        panel = ParamsPanel(params, system_prompt, id="params")
        panel.display = self._screen.size.width >= PARAMS_PANEL_MIN_WIDTH
        self._auto_hidden = not panel.display  # hidden for the width: widening shows it
        return panel

    def resized(self, width: int) -> None:
        """Shrinking below the panel's width hides it (it would squeeze the chat); widening
        back shows it again if the shrink hid it."""
        screen = self._screen
        panels = screen.query(PANEL)
        if not panels:
            return  # still starting: it is sized at mount
        panel = panels.first()
        wide = width >= PARAMS_PANEL_MIN_WIDTH
        if not wide and panel.display:
            had_focus = panel.has_focus_within
            panel.display = False
            self._auto_hidden = True
            if had_focus:
                screen.query_one(PromptInput).focus()
        elif wide and self._auto_hidden:
            panel.display = True
            self._auto_hidden = False

    def leave(self) -> None:
        """Esc in the panel: a panel covering a narrow chat closes."""
        screen = self._screen
        panel = screen.query(PANEL)
        if panel and panel.first().has_focus_within and screen.size.width < PARAMS_PANEL_MIN_WIDTH:
            panel.first().display = False

    def toggle(self) -> None:
        """ctrl+t: open and focus the panel; open with focus elsewhere: focus it; with focus
        in it: hide it (it hid an open panel the user meant to reach)."""
        screen = self._screen
        if not screen.query(PANEL):
            return  # still starting
        panel = screen.query_one(PANEL)
        self._auto_hidden = False
        if panel.display and panel.has_focus_within:
            panel.display = False
            screen.query_one(PromptInput).focus()
        else:
            panel.display = True
            panel.query_one("Input").focus()
