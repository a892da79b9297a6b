"""The Speech screen's status sentences: pure functions, so tests and screens agree.

Each line says how far the transcription got, in which language (detected or given) and
what to do next; a stopped run says how much of the audio its segments cover.
"""

from __future__ import annotations

from backends.speech.languages import language_name
from backends.speech.protocol import TranscriptionFinished, TranscriptionStarted
from tui.human_units import plural
from tui.speech.segment_list import timestamp

NEXT_STEPS = "ctrl+y copies · ctrl+s saves · ctrl+g sends to chat."


def language_line(started: TranscriptionStarted | None, given: str | None) -> str:
    """ "English (given)" or "French (detected, 97 %)"; empty before the audio is read."""
    if started is None:
        return ""
    name = language_name(started.language)
    if given:
        return f"{name} (given)"
    return f"{name} (detected, {started.language_probability:.0%})".replace("%", " %")


def started_line(started: TranscriptionStarted, given: str | None) -> str:
    return (
        f"Transcribing {timestamp(started.duration_s)} of audio · "
        f"{language_line(started, given)}… (Esc stops)"
    )


def progress_line(
    count: int, reached_s: float, started: TranscriptionStarted | None, given: str | None
) -> str:
    duration = started.duration_s if started is not None else 0.0
    parts = [plural(count, "segment"), f"{timestamp(reached_s)} of {timestamp(duration)}"]
    if started is not None:
        parts.append(language_line(started, given))
    return " · ".join(parts) + " · Esc stops"


def finished_line(
    event: TranscriptionFinished, started: TranscriptionStarted | None, given: str | None
) -> str:
    rtf = event.real_time_factor
    speed = f" (real-time factor {rtf:.2f})" if rtf is not None else ""
    language = f" · {language_line(started, given)}" if started is not None else ""
    segments = plural(event.segments, "segment")
    if event.reason == "cancelled":
        total = f" of {timestamp(started.duration_s)}" if started is not None else ""
        return (
            f"Stopped: {segments} covering {timestamp(event.audio_s)}{total} of audio in "
            f"{event.elapsed_s:.1f} s{language}. {NEXT_STEPS}"
        )
    return (
        f"Done: {segments} from {timestamp(event.audio_s)} of audio in "
        f"{event.elapsed_s:.1f} s{speed}{language}. {NEXT_STEPS}"
    )
