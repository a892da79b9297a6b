"""The transcript as it arrives: one line per segment, its start and end, the words wrapped;
below them the text a server has streamed that no segment holds yet (`show_partial`)."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from backends.speech.protocol import Segment


def timestamp(seconds: float) -> str:
    """12.3 -> "00:12.3"; an hour or more -> "1:02:03.4"."""
    seconds = max(0.0, seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 1:
        return f"{int(hours)}:{int(minutes):02d}:{secs:04.1f}"
    return f"{int(minutes):02d}:{secs:04.1f}"


class SegmentLine(Static):
    DEFAULT_CSS = """
    SegmentLine { height: auto; padding: 0 1; }
    SegmentLine:even { background: $boost; }
    """

    def __init__(self, segment: Segment) -> None:
        line = Text()
        line.append(f"{timestamp(segment.start)} → {timestamp(segment.end)}  ", style="dim")
        line.append(segment.text)
        super().__init__(line)
        self.segment = segment


class SegmentList(VerticalScroll):
    """Segments in order, kept scrolled to the newest while they arrive."""

    DEFAULT_CSS = """
    SegmentList { height: 1fr; border: round $panel-lighten-1; }
    SegmentList > .segments-empty { color: $text-muted; padding: 0 1; }
    SegmentList > .segment-partial { height: auto; padding: 0 1; color: $text-muted; }
    """

    _partial: Static | None = None

    def on_mount(self) -> None:
        self.mount(Static("Segments appear here as they are decoded.", classes="segments-empty"))

    @property
    def segments(self) -> list[Segment]:
        return [line.segment for line in self.query_children(SegmentLine)]

    def add(self, segment: Segment) -> None:
        self._drop_partial()
        self._show(SegmentLine(segment))

    def show_partial(self, text: str) -> None:
        """Text streamed so far and not yet in a segment: one dim line, replaced each time."""
        if self._partial is not None:
            following = self.is_vertical_scroll_end
            self._partial.update(Text(f"… {text}"))
            if following:
                self.call_after_refresh(self.scroll_end, animate=False)
        else:
            self._partial = Static(Text(f"… {text}"), classes="segment-partial")
            self._show(self._partial)

    def _show(self, line: Static) -> None:
        for hint in self.query_children(".segments-empty"):
            hint.display = False
        following = self.is_vertical_scroll_end
        self.mount(line)
        if following:  # keep the newest in view unless the user scrolled up to read
            self.call_after_refresh(self.scroll_end, animate=False)

    def _drop_partial(self) -> None:
        if self._partial is not None:
            self._partial.remove()
            self._partial = None

    def clear(self) -> None:
        self._drop_partial()
        for line in self.query_children(SegmentLine):
            line.remove()
        for hint in self.query_children(".segments-empty"):
            hint.display = True
