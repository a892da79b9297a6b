"""The no-template transcript format and its stop-string filter."""

from __future__ import annotations

from backends.base import ChatMessage
from backends.chat.transcript import StopSequenceFilter, transcript_prompt


def test_transcript_ends_with_an_open_assistant_turn() -> None:
    prompt = transcript_prompt(
        [
            ChatMessage("system", "Be brief."),
            ChatMessage("user", "Hi"),
            ChatMessage("assistant", "Yo"),
        ]
    )
    assert prompt == "System: Be brief.\nUser: Hi\nAssistant: Yo\nAssistant:"


def test_filter_holds_a_possible_stop_and_cuts_at_a_whole_one() -> None:
    stops = StopSequenceFilter()
    shown = [stops.feed(piece) for piece in ["Sure", ", done.", "\nU", "se", "r: next", "!"]]
    assert shown == ["Sure", ", done.", "", "", "", ""]
    assert stops.stopped


def test_filter_releases_a_false_alarm() -> None:
    stops = StopSequenceFilter()
    assert stops.feed("a\nUs") == "a"
    assert stops.feed("ually") == "\nUsually"
    assert stops.feed("\n") == ""
    assert stops.flush() == "\n"
    assert not stops.stopped
