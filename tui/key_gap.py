"""Keys before other drawing: things that redraw often (a streaming answer) draw between keys.

While an answer streams, a key typed during an append waits for the Markdown parse, the
layout and the frame it causes (~10 ms of CPU, 3x that in wall time on a busy 2-core
machine): that was the p95 of key latency while streaming. A typist leaves a gap after
each key is on screen (50-300 ms), so `KeyGap.wait()` holds a redraw until the next key's
frame while the user types, and lets it go at once otherwise.
"""

from __future__ import annotations

import asyncio
import time

TYPING_S = 0.35  # a key within this long: the user is typing (wait for the next one at most this)
GAP_S = 0.03  # a key's frame drawn within this long: its gap has begun, draw now


class KeyGap:
    """When keys were pressed and drawn (the app tells it) and a wait for the next gap."""

    def __init__(self) -> None:
        self._pressed = -TYPING_S
        self._drawn = -TYPING_S
        self._next_drawn: asyncio.Event | None = None

    def pressed(self) -> None:
        self._pressed = time.monotonic()

    def drawn(self) -> None:
        """The frame after the last key was drawn."""
        self._drawn = time.monotonic()
        if self._next_drawn is not None:
            self._next_drawn.set()

    async def wait(self, limit: float) -> None:
        """Return at a moment between keys, within `limit` seconds: at once unless the user
        is typing, else right after the next key's frame (or when the typing stops)."""
        now = time.monotonic()
        typing_left = self._pressed + TYPING_S - now
        if typing_left <= 0 or (self._drawn >= self._pressed and now - self._drawn < GAP_S):
            return
        # Not asyncio.wait_for: on 3.11 it can swallow a cancel (the stream's stop())
        # that lands as the event is set, and the stream then waited forever for text.
        next_drawn = self._next_drawn = asyncio.Event()
        timer = asyncio.get_running_loop().call_later(min(limit, typing_left), next_drawn.set)
        try:
            await next_drawn.wait()
        finally:
            timer.cancel()
            if self._next_drawn is next_drawn:
                self._next_drawn = None
