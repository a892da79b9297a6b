"""The conversations list as a table: one row per conversation, search matches highlighted.

Titles and model names are cut by terminal cells (CJK titles keep the columns in place); a
search hit inside a message adds a second line with its snippet.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from backends.store.conversations import ConversationSummary, SearchHit
from backends.store.search import TOKEN
from tui.cell_text import clip
from tui.chat.message_list import model_title

TITLE_WIDTH = 56
_SNIPPET_WIDTH = 72
_MODEL_WIDTH = 20
# Model, Msgs and Updated ("12 min ago") columns plus two cells of padding per column:
# what is left of the dialog is the title's, so at 80 columns every column stays visible.
OTHER_COLUMNS_WIDTH = _MODEL_WIDTH + 4 + 10 + 4 * 2


def relative_time(ts: float, now: float | None = None) -> str:
    """'just now', '5 min ago', '3 h ago', 'yesterday', '4 days ago', then the date."""
    now = time.time() if now is None else now
    seconds = max(0.0, now - ts)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    fmt = "%b %d" if time.localtime(ts).tm_year == time.localtime(now).tm_year else "%Y-%m-%d"
    return time.strftime(fmt, time.localtime(ts))


def _words_pattern(query: str) -> re.Pattern[str] | None:
    """What the search matched, for highlighting: each word as a word prefix, any case."""
    words = TOKEN.findall(query)
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\w*", re.IGNORECASE)


class ConversationTable(DataTable[str | Text]):
    """The list of conversations; Enter shows in the footer as "Open"."""

    BINDINGS = [Binding("enter", "select_cursor", "Open", id="conversations.open")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.add_column("Title", key="title")
        self.add_column("Model", key="model")
        self.add_column("Msgs", key="count")
        self.add_column("Updated", key="updated")

    def highlighted_id(self) -> int | None:
        if self.row_count == 0:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def show(
        self,
        rows: Sequence[ConversationSummary],
        *,
        query: str,
        hits: Mapping[int, SearchHit],
        model_names: Mapping[str, str],
        title_width: int,
        keep: int | None,
    ) -> None:
        """Replace the rows; the cursor stays on `keep` if listed, else on the same row number."""
        old_row = self.cursor_row
        self.clear()
        now = time.time()
        match = _words_pattern(query)
        for conv in rows:
            title = Text(clip(conv.title, title_width), style="bold")
            hit = hits.get(conv.id)
            height = 1
            if hit is not None and hit.message_id is not None:
                snippet = clip(hit.snippet, min(_SNIPPET_WIDTH, title_width))
                title.append("\n" + snippet, style="italic dim")
                height = 2
            if match is not None:
                title.highlight_regex(match, style="underline")
            self.add_row(
                title,
                clip(model_title(conv.model_key, model_names), _MODEL_WIDTH)
                if conv.model_key
                else "—",
                Text(str(conv.message_count), justify="right"),
                relative_time(conv.updated_at, now),
                key=str(conv.id),
                height=height,
            )
        ids = [c.id for c in rows]
        if keep in ids:
            self.move_cursor(row=ids.index(keep), animate=False)
        elif rows:
            self.move_cursor(row=min(old_row, len(rows) - 1), animate=False)
