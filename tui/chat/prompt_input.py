"""The multi-line prompt: Enter sends; ctrl+j (any terminal) or shift+enter inserts a newline.

ctrl+j sends a bare line feed in every terminal, so it works over SSH and in tmux;
shift+enter only reaches the app where the terminal reports modified keys (kitty, WezTerm,
foot, recent iTerm2...). Up in an empty prompt edits the previous message you sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widgets import TextArea

from backends.trace import mark
from tui.chat.message_view import MessageView


class PromptInput(TextArea):
    # Keys are handled in _on_key, in order with the typed text: a priority binding runs
    # before keys already queued for the widget, so a fast "...sentence.<Enter>" (a paste,
    # tmux send-keys) lost its last characters. The bindings document the keys and let a
    # keymap add more.
    BINDINGS = [
        # Not in the footer: the prompt's placeholder says both, and 80 columns are scarce.
        Binding("enter", "submit", "Send", show=False, id="prompt.send"),
        Binding(
            "ctrl+j,shift+enter",
            "newline",
            "New line",
            show=False,
            key_display="ctrl+j",
            id="prompt.newline",
        ),
        Binding(
            "pageup", "cursor_page_up", "Scroll conversation up", show=False, id="prompt.page_up"
        ),
        Binding(
            "pagedown",
            "cursor_page_down",
            "Scroll conversation down",
            show=False,
            id="prompt.page_down",
        ),
    ]

    @dataclass
    class Submitted(Message):
        prompt: PromptInput
        text: str

    class EditPreviousRequested(Message):
        """Up was pressed in an empty prompt."""

    @dataclass
    class FlipRequested(Message):
        """← or → in an empty prompt: show the previous / next answer to the last prompt."""

        step: int  # -1 earlier, +1 later

    @dataclass
    class PageRequested(Message):
        """PageUp/PageDown in a prompt that has nothing to scroll: page the conversation."""

        direction: int  # -1 up, +1 down

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            tab_behavior="focus",
            highlight_cursor_line=False,
            placeholder="Message…  (Enter sends · ctrl+j new line)",
        )
        # Compact (no border), set as the widget is made: TextArea(compact=True) restyled
        # the prompt before it was even mounted (~1 ms of the first frame).
        self.set_reactive(TextArea.compact, True)
        self.set_class(True, "-textual-compact", update=False)
        self._key_actions: dict[str, str] = {}
        self._editing: MessageView | None = None
        self._draft_before_edit = ""  # the prompt's text when an edit began
        self._typed: list[str] = []  # characters not yet inserted (see _on_key)
        self._typed_not_drawn = False  # inserted, not yet in a frame (see render_lines)

    def on_mount(self) -> None:
        self._key_actions = self._own_keys()

    def _own_keys(self) -> dict[str, str]:
        """key -> "submit" / "newline", with the user's keymap applied."""
        bindings = self._bindings.copy()
        if self.app._keymap:
            bindings.apply_keymap(self.app._keymap)
        return {
            key: binding.action
            for key, group in bindings.key_to_bindings.items()
            for binding in group
            if binding.action in ("submit", "newline")
        }

    async def _on_key(self, event: events.Key) -> None:
        action = self._key_actions.get(event.key)
        if action is None and event.key == "newline":  # the alias some terminals report
            action = self._key_actions.get("ctrl+j")
        if action is None and event.is_printable and not self.read_only:
            # Gather characters that arrive together and insert them in one edit: TextArea
            # re-wraps the whole line at each edit, so a paste that arrives as keys (no
            # bracketed paste, slow SSH) cost work growing with the square of its length
            # (33 KB: over 4 minutes). Any other key inserts what was gathered first.
            event.stop()
            event.prevent_default()
            self._restart_blink()
            if not self._typed:
                self.call_later(self._insert_typed)
            self._typed.append(event.character or "")
            return
        self._insert_typed()
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        if action == "submit":
            mark("enter")
            self.action_submit()
        else:
            self.action_newline()

    def _on_paste(self) -> None:
        # Keys typed before a paste go before it; TextArea's own handler (called next, as
        # Textual calls each class's handler) inserts the paste.
        self._insert_typed()

    def _insert_typed(self) -> None:
        if self._typed:
            typed, self._typed = "".join(self._typed), []
            start, end = self.selection
            self._replace_via_keyboard(typed, start, end)
            self._typed_not_drawn = True

    def render_lines(self, crop: Region) -> list[Strip]:
        # The frame that shows typed keys is being drawn: a streaming update held for them
        # may go once it is written (tui/key_gap.py). Not call_after_refresh: that could run
        # before this widget had even asked for its repaint, and the update came first.
        lines = super().render_lines(crop)
        if self._typed_not_drawn:
            self._typed_not_drawn = False
            key_gap = getattr(self.app, "key_gap", None)
            if key_gap is not None:
                key_gap.drawn()
        return lines

    @property
    def editing(self) -> MessageView | None:
        """The sent message being edited (Enter resends it), or None."""
        return self._editing

    @property
    def draft(self) -> str:
        """What the user typed and has not sent: the prompt's text, or while an edit is
        open, the text the edit replaced (the edit itself is the sent message's)."""
        self._insert_typed()
        return self._draft_before_edit if self._editing is not None else self.text

    def show_draft(self, text: str) -> None:
        """Replace the prompt with `text` (another chat's draft), leaving any edit."""
        self.end_edit(clear=False)
        self._typed = []
        self.text = text
        self.move_cursor(self.document.end)

    def start_edit(self, view: MessageView) -> None:
        if self._editing is not None:
            self._editing.remove_class("-editing")
        else:
            self._insert_typed()
            self._draft_before_edit = self.text
        self._editing = view
        view.add_class("-editing")
        self.text = view.content
        self.move_cursor(self.document.end)
        self.border_title = "Editing: Enter resends and drops later messages · Esc cancels"
        self.add_class("-editing")
        self.focus()

    def end_edit(self, *, clear: bool) -> str:
        """Leave edit mode; `clear` (a cancel) puts back what the prompt held before the
        edit. Returns that text, for a resend to put back once it is sent."""
        was_editing = self._editing is not None
        if self._editing is not None:
            self._editing.remove_class("-editing")
        self._editing = None
        self.border_title = None
        self.remove_class("-editing")
        before, self._draft_before_edit = self._draft_before_edit, ""
        if clear and was_editing:
            self.text = before
            self.move_cursor(self.document.end)
        elif clear:
            self.clear()
        return before if was_editing else ""

    def action_submit(self) -> None:
        if self.text.strip():
            self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_cursor_page_up(self) -> None:
        if self.virtual_size.height <= self.scrollable_content_region.height:
            self.post_message(self.PageRequested(-1))
        else:
            super().action_cursor_page_up()

    def action_cursor_page_down(self) -> None:
        if self.virtual_size.height <= self.scrollable_content_region.height:
            self.post_message(self.PageRequested(1))
        else:
            super().action_cursor_page_down()

    def action_cursor_left(self, select: bool = False) -> None:
        if not self.text and not select:
            self.post_message(self.FlipRequested(-1))
            return
        super().action_cursor_left(select)

    def action_cursor_right(self, select: bool = False) -> None:
        if not self.text and not select:
            self.post_message(self.FlipRequested(1))
            return
        super().action_cursor_right(select)

    def action_cursor_up(self, select: bool = False) -> None:
        if not self.text and not select:
            self.post_message(self.EditPreviousRequested())
            return
        super().action_cursor_up(select)
