"""Waiting on conditions in Pilot tests: poll with short pauses, fail loudly, never sleep blind."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot


async def until(
    pilot: Pilot, condition: Callable[[], object], what: str, tries: int = 3000
) -> None:
    """Let the app run until `condition()` is true (workers run in threads, so poll)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for: {what}")
