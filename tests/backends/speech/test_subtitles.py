"""Transcript files: .srt and .vtt are valid subtitle files, .txt is the words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backends.errors import BackendError
from backends.speech.protocol import Segment
from backends.speech.subtitles import to_srt, to_vtt, write_transcript

SEGMENTS = [
    Segment(0, 0.0, 2.5, "Hello there."),
    Segment(1, 2.5, 3661.042, "An hour later."),
    Segment(2, 3661.1, 3662.0, ""),  # Whisper can emit an empty segment: skipped
]


def test_srt_numbers_cues_with_comma_millis() -> None:
    assert to_srt(SEGMENTS) == (
        "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n"
        "2\n00:00:02,500 --> 01:01:01,042\nAn hour later.\n"
    )


def test_vtt_has_header_and_dot_millis() -> None:
    assert to_vtt(SEGMENTS) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:02.500\nHello there.\n\n"
        "00:00:02.500 --> 01:01:01.042\nAn hour later.\n"
    )


def test_write_picks_the_format_by_suffix(tmp_path: Path) -> None:
    txt = write_transcript(SEGMENTS, tmp_path / "out" / "talk.txt")
    assert txt.read_text() == "Hello there.\nAn hour later.\n"
    vtt = write_transcript(SEGMENTS, tmp_path / "talk.VTT")
    assert vtt.read_text().startswith("WEBVTT")
    with pytest.raises(BackendError, match=r"end the name with \.txt, \.srt or \.vtt"):
        write_transcript(SEGMENTS, tmp_path / "talk.doc")


def test_srt_cue_times_parse_and_increase() -> None:
    cue = re.compile(r"^(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)$")
    times = [cue.match(line) for line in to_srt(SEGMENTS).splitlines() if "-->" in line]
    assert all(times)
