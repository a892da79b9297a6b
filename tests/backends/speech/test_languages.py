"""Language codes are checked before any audio is read, against Whisper's own table."""

from __future__ import annotations

import pytest

from backends.errors import UnsupportedOption
from backends.speech.languages import WHISPER_LANGUAGES, language_code, language_name


def test_the_table_is_faster_whispers() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert set(WHISPER_LANGUAGES) == set(_LANGUAGE_CODES)


@pytest.mark.parametrize(
    ("typed", "code"), [("fr", "fr"), (" FR ", "fr"), ("French", "fr"), ("auto", None), ("", None)]
)
def test_codes_and_names_are_taken(typed: str, code: str | None) -> None:
    assert language_code(typed) == code


def test_an_unknown_code_says_so_and_how_to_give_one() -> None:
    with pytest.raises(UnsupportedOption) as caught:
        language_code("xx")
    assert caught.value.title == "Unknown language"
    text = caught.value.message
    assert "'xx' is not a language Whisper knows" in text
    assert "auto to detect" in text and "French" in text and "en, fr" in text
    assert "convert" not in text and "decode" not in text


def test_names_for_display() -> None:
    assert language_name("fr") == "French" and language_name("qq") == "qq"
