"""The scrolling conversation: message views in order, kept at the bottom while streaming."""

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


class MessageList(VerticalScroll):
    """Holds MessageViews; an empty chat shows a short hint instead.

    Focusable (Tab), so arrows, PageUp/PageDown, Home and End scroll the conversation.
    """

    def on_mount(self) -> None:
        self.mount(Static(EMPTY_HINT, classes="empty-hint"))
        self.anchor()

    @property
    def views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    def add(self, view: MessageView) -> AwaitMount:
        """Mount `view` at the end; await the result before streaming into it."""
        for hint in self.query_children(".empty-hint"):
            hint.display = False
        mounted = self.mount(view)
        self.anchor()
        return mounted

    def show_stored(
        self, messages: list[StoredMessage], names: Mapping[str, str] | None = None
    ) -> AwaitMount:
        """Show a saved conversation (after `clear()`), stats under each answer.

        `names` maps model keys to display names (known models), so a reopened answer is
        titled as it was when it streamed.
        """
        names = names or {}
        views = [
            MessageView(
                m.role,
                m.content,
                message_id=m.id,
                title=None if m.role == "user" else model_title(m.model_key, names),
                stats=m.stats,
                images=m.images,
            )
            for m in messages
            if m.role in ("user", "assistant")
        ]
        for hint in self.query_children(".empty-hint"):
            hint.display = not views
        mounted = self.mount_all(views)
        self.anchor()
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
