"""Numbers as people read them: 1.2M downloads, 420 MB, "3 d ago", "2m 05s" left.

Pure functions (no Textual), so screens and snapshot tests agree on every string. Relative
times take an explicit `now`, which lets tests freeze the clock.
"""

from __future__ import annotations

from datetime import datetime, timezone


def plural(n: int, word: str) -> str:
    """ "1 line", "2 lines", "0 lines" (English nouns that take an s)."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def human_count(n: int) -> str:
    """1234 -> "1.2k", 1_234_567 -> "1.2M"; below 1000 as is."""
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if n >= limit:
            value = n / limit
            return f"{value:.0f}{suffix}" if value >= 100 else f"{value:.1f}{suffix}"
    return str(n)


def human_bytes(n: int | float) -> str:
    """Decimal units, like disk vendors and the Hub: 420 kB -> "420 KB", 1.53e9 -> "1.5 GB"."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.0f} {unit}" if abs(value) >= 100 else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_speed(bytes_per_s: float) -> str:
    return f"{human_bytes(bytes_per_s)}/s" if bytes_per_s > 0 else "—"


def human_duration(seconds: float | None) -> str:
    """ETA text: "45s", "2m 05s", "1h 12m"; "—" when unknown."""
    if seconds is None or seconds < 0:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def relative_time(when: datetime | float | None, now: datetime | None = None) -> str:
    """ "just now", "5 min ago", "3 h ago", "2 d ago", "4 mo ago", "2 y ago"; "—" if unknown.

    `when` is a datetime or epoch seconds; `now` defaults to the current UTC time.
    """
    if when is None:
        return "—"
    if isinstance(when, (int, float)):
        when = datetime.fromtimestamp(when, timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    for size, unit in ((31_536_000, "y"), (2_592_000, "mo"), (86_400, "d"), (3_600, "h")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds // 60)} min ago"
