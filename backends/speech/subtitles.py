"""Transcripts as files: plain text, SubRip (.srt) and WebVTT (.vtt), chosen by suffix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from backends.errors import BackendError
from backends.speech.protocol import Segment

FORMATS = (".txt", ".srt", ".vtt")


def plain_text(segments: Sequence[Segment]) -> str:
    """The words only, one segment per line (what goes to the clipboard or the chat)."""
    return "\n".join(s.text for s in segments if s.text)


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(segments: Sequence[Segment]) -> str:
    blocks = [
        f"{n}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{s.text}\n"
        for n, s in enumerate((s for s in segments if s.text), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(segments: Sequence[Segment]) -> str:
    blocks = [
        f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{s.text}\n" for s in segments if s.text
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def render(segments: Sequence[Segment], suffix: str) -> str:
    suffix = suffix.lower()
    if suffix == ".srt":
        return to_srt(segments)
    if suffix == ".vtt":
        return to_vtt(segments)
    if suffix == ".txt":
        return plain_text(segments) + "\n"
    raise BackendError(
        f"Cannot export to {suffix or 'a file without a suffix'}: end the name with "
        ".txt, .srt or .vtt.",
        title="Unknown subtitle format",
    )


def write_transcript(segments: Sequence[Segment], path: Path) -> Path:
    """Write `segments` in the format the suffix names; returns the absolute path."""
    target = path.expanduser().absolute()
    text = render(segments, target.suffix)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BackendError(
            f"Could not write {target}: {exc.strerror or exc}. Pick a folder you can write to.",
            title="Export failed",
        ) from exc
    return target
