"""The scrolling conversation: message views in order, following the newest text.

Following is ours, not Textual's `anchor()`: an anchored list whose content was shorter than
the view got a negative scroll offset, and a PageUp there (nothing to scroll) released the
anchor for good, so a growing answer ran on below the visible area until it ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from textual.await_remove import AwaitRemove
from textual.containers import VerticalScroll
from textual.widget import AwaitMount
from textual.widgets import Static

from tui.chat.message_view import MessageView

if TYPE_CHECKING:
    from backends.store.conversations import StoredMessage

EMPTY_HINT = (
    "Ask anything.  [b]Enter[/] sends · [b]ctrl+j[/] new line · [b]ctrl+o[/] models · "
    "[b]F3[/] Hub · [b]F1[/] all keys"
)


UNFINISHED = {"finish_reason": "cancelled"}
"""The stats shown for a saved answer that never got its own (cut by quitting)."""


class MessageList(VerticalScroll):
    """Holds MessageViews; an empty chat shows a short hint instead.

    Focusable (Tab), so arrows, PageUp/PageDown, Home and End scroll the conversation.
    Scrolling away from the bottom pauses following; End, scrolling back to the bottom, or
    `follow()` (a new prompt) resumes it.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._following = True

    @property
    def following(self) -> bool:
        return self._following

    def follow(self) -> None:
        """Show the newest text now and as it arrives."""
        self._following = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def release_anchor(self) -> None:
        # Textual calls this before every user scroll (keys, wheel, scrollbar, PageRequested):
        # pause at once, so text arriving meanwhile cannot pull the view back, then follow
        # again if the scroll ends at the bottom (or there was nothing to scroll).
        super().release_anchor()
        self._following = False
        self.call_after_refresh(self._follow_if_at_bottom)

    def _follow_if_at_bottom(self) -> None:
        if self.scroll_target_y >= self.max_scroll_y:
            self._following = True

    def action_scroll_end(self) -> None:
        self.follow()

    def watch_virtual_size(self) -> None:
        # Set at each layout where the content grew (an answer streaming, a message added).
        if self._following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def on_resize(self) -> None:
        self.watch_virtual_size()  # the terminal changed size

    def on_mount(self) -> None:
        self.mount(Static(EMPTY_HINT, classes="empty-hint"))

    @property
    def views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    def add(self, view: MessageView) -> AwaitMount:
        """Mount `view` at the end; await the result before streaming into it."""
        for hint in self.query_children(".empty-hint"):
            hint.display = False
        mounted = self.mount(view)
        self.follow()
        return mounted

    def show_stored(
        self, messages: list[StoredMessage], names: Mapping[str, str] | None = None
    ) -> AwaitMount:
        """Show a saved conversation (after `clear()`), stats under each answer.

        `names` maps model keys to display names (known models), so a reopened answer is
        titled as it was when it streamed. An answer saved without stats never finished (the
        app quit or died mid-answer): it is marked "stopped", as Esc would have left it.
        """
        names = names or {}
        views = [
            MessageView(
                m.role,
                m.content,
                message_id=m.id,
                title=None if m.role == "user" else model_title(m.model_key, names),
                stats=m.stats if m.stats or m.role != "assistant" else UNFINISHED,
                images=m.images,
            )
            for m in messages
            if m.role in ("user", "assistant", "picture")
        ]
        for hint in self.query_children(".empty-hint"):
            hint.display = not views
        mounted = self.mount_all(views)
        self.follow()
        return mounted

    def remove_from(self, view: MessageView) -> AwaitRemove:
        """Remove `view` and every message after it."""
        views = self.views
        return self.remove_children(views[views.index(view) :] if view in views else [])

    def clear(self) -> None:
        for view in self.views:
            view.remove()
        for hint in self.query_children(".empty-hint"):
            hint.display = True

    def last(self, role: str) -> MessageView | None:
        for view in reversed(self.views):
            if view.role == role:
                return view
        return None


def model_title(model_key: str | None, names: Mapping[str, str] | None = None) -> str:
    """The model's name if known, else a short one from its key ("gguf:/m/q.gguf" -> "q.gguf")."""
    names = names or {}
    if not model_key:
        return "Assistant"
    if model_key in names:
        return names[model_key]
    return model_key.split(":", 1)[-1].rsplit("/", 1)[-1]
