"""Streams an answer into a Markdown widget without letting drawing grow into the engine's CPU.

Textual re-parses and re-wraps the whole last Markdown block on every append, so a long
paragraph or code block costs more per update as it grows. On 2 cores that CPU comes out
of the engine's share: a 2,000-token single-paragraph answer reached the screen at 0.47
of the bare engine's rate, falling to 0.5 of its starting rate by the end
(bench/stream_efficiency.py). `AnswerStream` appends, then rests until the UI thread's
CPU time is at most `budget` of the wall time: updates come less often
as the block grows (never less than one per `max_rest` seconds) instead of the engine
slowing down.

While the user types, each update waits for the gap after a key is on screen
(tui/key_gap.py), so keys are not drawn behind an update.
"""

from __future__ import annotations

import asyncio
import time

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream

UI_CPU_BUDGET = 0.15  # share of one core the UI thread may spend while an answer streams
MAX_REST_S = 0.5  # the longest the screen lags the answer
MAX_CREDIT_S = 0.1


class AnswerStream(MarkdownStream):
    """A `MarkdownStream` (write/stop) that paces appends by the UI thread's CPU time."""

    def __init__(
        self, markdown: Markdown, *, budget: float = UI_CPU_BUDGET, max_rest: float = MAX_REST_S
    ) -> None:
        super().__init__(markdown)
        self._budget = budget
        self._max_rest = max_rest

    async def _run(self) -> None:
        # The task runs on the UI thread, so thread_time() is the UI's CPU: parsing, the
        # frames drawn after each append, and anything else it did meanwhile. `debt` is
        # how far that CPU is ahead of `budget` × wall time since the first text arrived;
        # quiet spells bank at most MAX_CREDIT_S, so cheap early updates do not pay for
        # expensive late ones. The clock starts with the first text, not at start():
        # mounting and drawing the empty message is not the stream's cost, and counting
        # it made the second update wait ~0.1 s.
        start_cpu: float | None = None
        start_wall = 0.0
        key_gap = getattr(self.markdown_widget.app, "key_gap", None)
        last_append = 0.0
        try:
            while await self._new_markup.wait():
                if start_cpu is not None and key_gap is not None:  # the first text: at once
                    await key_gap.wait(last_append + self._max_rest - time.monotonic())
                fragment = "".join(self._pending)
                self._pending.clear()
                self._new_markup.clear()
                first = start_cpu is None
                if first:
                    start_cpu, start_wall = time.thread_time(), time.monotonic()
                await asyncio.shield(self.markdown_widget.append(fragment))
                if first:
                    _draw_now(self.markdown_widget)
                last_append = time.monotonic()
                debt = (time.thread_time() - start_cpu) / self._budget - (
                    time.monotonic() - start_wall
                )
                if debt < -MAX_CREDIT_S:
                    start_wall += -MAX_CREDIT_S - debt
                elif debt > 0:
                    await self._rest(min(debt, self._max_rest))
        except asyncio.CancelledError:
            pass  # stop(): show what is still pending at once
        rest_of_answer = "".join(self._pending)
        self._pending.clear()
        if rest_of_answer:
            await self.markdown_widget.append(rest_of_answer)

    async def _rest(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _draw_now(widget: Markdown) -> None:
    """Draw the screen's pending changes now, as its update timer would.

    Textual draws at most 60 frames a second on a fixed grid, so a frame drawn shortly
    before (the views' mount, late on a busy machine) held the first token back until the
    next tick: 7-18 ms in traces of bench/remote_chat.py under load. A private method of
    Textual's Screen, hence the getattr: without it the timer draws the token as before.
    """
    if not widget.is_attached:
        return
    update = getattr(widget.screen, "_on_timer_update", None)
    if update is not None:
        update()
