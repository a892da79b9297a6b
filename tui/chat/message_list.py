"""The scrolling conversation: message views in order, following the newest text.

A reopened conversation mounts its last `SHOWN_AT_OPEN` messages only; earlier ones are
mounted a batch at a time when the user scrolls to the top (or all at once on Home), so
reopening costs the same for 50 messages and for 1,000 (bench/long_conversation.py).

Following is ours, not Textual's `anchor()`: an anchored list whose content was shorter than
the view got a negative scroll offset, and a PageUp there (nothing to scroll) released the
anchor for good, so a growing answer ran on below the visible area until it ended. We use
the anchor only as a means: set while following a list taller than the view, so the layout
that places an answer's new line also scrolls it into view (one frame per update; scrolling
after the layout drew the list twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from textual.await_remove import AwaitRemove
from textual.containers import VerticalScroll
from textual.widget import AwaitMount
from textual.widgets import Static

from tui.chat.message_view import MessageView
from tui.widgets.sized_by_layout import SizedByLayout

if TYPE_CHECKING:
    from backends.store.conversations import StoredMessage

EMPTY_HINT = (
    "Ask anything.  [b]Enter[/] sends · [b]ctrl+j[/] new line · [b]ctrl+o[/] models · "
    "[b]F3[/] Hub · [b]F1[/] all keys"
)


UNFINISHED = {"finish_reason": "cancelled"}
"""The stats shown for a saved answer that never got its own (cut by quitting)."""
SHOWN_ROLES = ("user", "assistant", "tool", "picture")  # "system" changes live in the export

# A reopened conversation mounts the last messages that fill SCREENS_AT_OPEN heights of the
# list (estimated from their text), at most SHOWN_AT_OPEN of them: there is always
# something to scroll up through, and mounting stays a screenful's work (Markdown answers
# cost ~10-20 ms each to mount on this machine).
SHOWN_AT_OPEN = 24
SCREENS_AT_OPEN = 2
# A long live conversation keeps at most MOUNTED_MAX messages mounted: each answer is a tree
# of Markdown widgets (~0.3-4 MB with their styles and caches: bench/answer_memory.py), so
# the oldest are unmounted, TRIM_BATCH at a time while the user follows the newest text,
# and come back like a reopened conversation's when scrolled to.
MOUNTED_MAX = 40
TRIM_BATCH = 8


@dataclass(frozen=True)
class KeptMessage:
    """A message not mounted (above what is shown): what it takes to mount it again."""

    role: str
    content: str
    message_id: int | None
    title: str | None
    stats: dict[str, Any] | None
    images: tuple[str, ...]
    reasoning: str = ""  # a reasoning answer's thinking
    tools: dict[str, Any] | None = None  # a tool message's call, an answer's calls

    @classmethod
    def of_view(cls, view: MessageView) -> KeptMessage:
        tools = getattr(view, "info", None) or getattr(view, "tools", None)  # calls or a call
        return cls(view.role, view.content, view.message_id, view.title, view.stats,
                   view.images, view.reasoning, tools)  # fmt: skip

    def view(self) -> MessageView:
        from tui.chat.tool_call_view import ToolCallView, tool_only

        if self.role == "tool":
            return ToolCallView(self.content, self.tools or {}, message_id=self.message_id)
        view = MessageView(self.role, self.content, message_id=self.message_id,
                           title=self.title, stats=self.stats, images=self.images,
                           reasoning=self.reasoning)  # fmt: skip
        if self.role == "assistant" and tool_only(self.content, self.reasoning, self.tools):
            view.add_class("-tool-only")
            view.tools = self.tools
        return view


EARLIER_BATCH = 24  # mounted each time the user scrolls to the top of what is shown


class MessageList(SizedByLayout, VerticalScroll):
    """Holds MessageViews; an empty chat shows a short hint instead.

    Focusable (Tab), so arrows, PageUp/PageDown, Home and End scroll the conversation.
    Scrolling away from the bottom pauses following; End, scrolling back to the bottom, or
    `follow()` (a new prompt) resumes it.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._following = True
        self._earlier: list[KeptMessage] = []  # not mounted (yet, or any more), oldest first
        self._names: Mapping[str, str] = {}
        self._mounting_earlier = False
        self._placing = False  # a batch mounted above, its position fix not yet made

    @property
    def following(self) -> bool:
        return self._following

    def follow(self) -> None:
        """Show the newest text now and as it arrives."""
        self._following = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self._anchor_while_following()

    def release_anchor(self) -> None:
        # Textual calls this before every user scroll (keys, wheel, scrollbar, PageRequested):
        # pause at once, so text arriving meanwhile cannot pull the view back, then follow
        # again if the scroll ends at the bottom (or there was nothing to scroll).
        super().release_anchor()
        self._following = False
        self.anchor(False)
        self.call_after_refresh(self._follow_if_at_bottom)

    def _follow_if_at_bottom(self) -> None:
        if self.scroll_target_y >= self.max_scroll_y:
            self._following = True
            self._anchor_while_following()

    def _anchor_while_following(self) -> None:
        """Textual's anchor on while following a list taller than the view (never shorter:
        the anchor would scroll that above its top)."""
        anchored = self._following and self.max_scroll_y > 0
        if anchored != self.is_anchored:
            self.anchor(anchored)

    def action_scroll_end(self) -> None:
        self.follow()

    def watch_virtual_size(self) -> None:
        # Set at each layout where the content grew (an answer streaming, a message added).
        # Forced: the layout that first makes the list taller than the view sets this before
        # it shows the scrollbar, and Textual refuses to scroll a list without one.
        if self._following:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        if self.scroll_y < 0:  # anchored while the content shrank below the view's height
            self.scroll_to(y=0, animate=False, immediate=True, force=True, release_anchor=False)
        self._anchor_while_following()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._earlier and new_value < 1 and not self._following:
            self.call_later(self._show_earlier_at_top)

    async def _show_earlier_at_top(self) -> None:
        # A page-up animates through several values under 1: one batch per arrival at the
        # top, and not before the last batch's position is fixed (its fix reads the layout
        # after it; a second batch mounted in between read a stale one and both shifts
        # added up, leaving the user far from what they were reading).
        if not self._placing:
            await self.show_earlier()

    def action_scroll_home(self) -> None:
        async def everything_then_top() -> None:
            while self._earlier:
                await self.show_earlier(batch=len(self._earlier))
            # After the layout, and after the position fixes the batches queued.
            self.call_after_refresh(self.scroll_home, animate=False, immediate=True)

        self.release_anchor()
        self.call_later(everything_then_top)

    def action_scroll_right(self) -> None:
        self._scroll_code(1)

    def action_scroll_left(self) -> None:
        self._scroll_code(-1)

    def _scroll_code(self, direction: int) -> None:
        """← →: the list never scrolls sideways, so they scroll the code blocks in view,
        half a block's width a press (a long line was cut at the right edge for good)."""
        from textual.widgets.markdown import MarkdownFence

        for fence in self.query(MarkdownFence):
            if fence.max_scroll_x and fence.region.overlaps(self.region):
                step = max(8, fence.scrollable_content_region.width // 2)
                fence.scroll_relative(x=direction * step, animate=False, immediate=True)

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
        if len(self.views) > MOUNTED_MAX + TRIM_BATCH:
            self.call_after_refresh(self._unmount_oldest)
        return mounted

    async def _unmount_oldest(self) -> None:
        """Keep MOUNTED_MAX messages mounted; the oldest wait in `_earlier` (not while the
        user reads back up the conversation)."""
        views = self.views
        if not self._following or len(views) <= MOUNTED_MAX or self._mounting_earlier:
            return
        self._mounting_earlier = True  # one change of the list at a time
        try:
            oldest = views[: len(views) - MOUNTED_MAX]
            self._earlier += [KeptMessage.of_view(view) for view in oldest]
            await self.remove_children(oldest)
            self._say_earlier()
        finally:
            self._mounting_earlier = False

    def show_stored(
        self, messages: list[StoredMessage], names: Mapping[str, str] | None = None
    ) -> AwaitMount:
        """Show a saved conversation (after `clear()`), stats under each answer.

        `names` maps model keys to display names (known models), so a reopened answer is
        titled as it was when it streamed. An answer saved without stats never finished (the
        app quit or died mid-answer): it is marked "stopped", as Esc would have left it.
        """
        self._names = names or {}
        shown = with_unanswered_calls([self._kept(m) for m in messages if m.role in SHOWN_ROLES])
        self._earlier = shown[: self._window_start(shown)]
        views = [m.view() for m in shown[len(self._earlier) :]]
        for hint in self.query_children(".empty-hint"):
            hint.display = not views
        if self._earlier:  # after clear(): goes after the views being removed, before these
            self.mount(Static(self._earlier_text(), classes="earlier-hint"))
        mounted = self.mount_all(views)
        self.follow()
        return mounted

    def _window_start(self, messages: list[KeptMessage]) -> int:
        """Index of the first message to mount: enough to fill the list twice over."""
        width = max(20, (self.size.width or 100) - 6)  # the message's border and padding
        wanted = SCREENS_AT_OPEN * max(self.size.height, 20)
        rows, start = 0, len(messages)
        while start > 0 and rows < wanted and len(messages) - start < SHOWN_AT_OPEN:
            start -= 1
            text = messages[start].content.splitlines() or [""]
            rows += 3 + sum(1 + len(line) // width for line in text)  # title, margin, stats
        return start

    async def show_earlier(self, batch: int = EARLIER_BATCH) -> None:
        """Mount the `batch` saved messages before the first one shown, keeping the view on
        what the user was reading."""
        if not self._earlier or self._mounting_earlier:
            return
        self._mounting_earlier = True
        try:
            taken, self._earlier = self._earlier[-batch:], self._earlier[:-batch]
            first = self.views[0] if self.views else None
            top_before = first.virtual_region.y if first is not None else 0
            await self.mount_all([m.view() for m in taken], before=first)
            self._say_earlier()
            if first is not None and not self._following:
                self._placing = True
                self.call_after_refresh(self._keep_reading, first, top_before, self.scroll_y)
        finally:
            self._mounting_earlier = False

    def _keep_reading(self, first: MessageView, top_before: int, scroll_before: float) -> None:
        self._placing = False
        shift = first.virtual_region.y - top_before
        self.scroll_to(y=scroll_before + shift, animate=False, immediate=True)

    def _say_earlier(self) -> None:
        """The line above the first message shown: how many are not mounted."""
        hints = self.query_children(".earlier-hint")
        if not self._earlier:
            hints.remove()
            return
        if hints:
            hints.first(Static).update(self._earlier_text())
        else:
            views = self.views
            hint = Static(self._earlier_text(), classes="earlier-hint")
            self.mount(hint, before=views[0] if views else None)

    def _earlier_text(self) -> str:
        count = len(self._earlier)
        return (f"↑ {count} earlier message{'s' if count != 1 else ''}: "
                "scroll up to show them, Home for all")  # fmt: skip

    def _kept(self, m: StoredMessage) -> KeptMessage:
        return KeptMessage(
            m.role,
            m.content,
            m.id,
            None if m.role == "user" else model_title(m.model_key, self._names),
            m.stats if m.stats or m.role != "assistant" else UNFINISHED,
            m.images,
            m.reasoning,
            m.tools,
        )

    def remove_from(self, view: MessageView) -> AwaitRemove:
        """Remove `view` and every message after it."""
        self.anchor(False)  # the list may get shorter than the view (see the module doc)
        views = self.views
        return self.remove_children(views[views.index(view) :] if view in views else [])

    def clear(self) -> None:
        self.anchor(False)
        self._earlier = []
        for view in self.views:
            view.remove()
        for hint in self.query_children(".earlier-hint"):
            hint.remove()
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
    kind, _, rest = model_key.partition(":")
    if kind == "openai":  # openai:<server>/<model id>; the id may have slashes of its own
        server, _, model = rest.partition("/")
        return f"{model} · {server}"
    return rest.rsplit("/", 1)[-1] if rest else model_key


def with_unanswered_calls(kept: list[KeptMessage]) -> list[KeptMessage]:
    """`kept` with a "not run" call block after each answer's call that has no result
    stored (the app closed while it waited), and a call still stored as running marked
    interrupted (the app closed while it ran), so a reopened chat still shows both."""
    from tui.chat.tool_call_view import NOT_RUN, interrupted, unanswered_calls

    answered = {str(m.tools.get("call_id")) for m in kept if m.role == "tool" and m.tools}
    out: list[KeptMessage] = []
    for message in kept:
        if message.role == "tool" and message.tools:
            message = replace(message, tools=interrupted(message.tools))
        out.append(message)
        if message.role == "assistant" and message.tools:
            for info in unanswered_calls(message.tools, answered):
                out.append(KeptMessage("tool", NOT_RUN, None, None, None, (), "", info))
    return out
