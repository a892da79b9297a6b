"""Text a voice cannot speak gets a clear message; mixed or unclear text goes through."""

from __future__ import annotations

import pytest

from backends.base import ModelSpec
from backends.speech.kokoro_engine import KokoroEngine
from backends.speech.synthesis import SynthesisOptions, TtsLoadOptions
from backends.speech.text_language import (
    WrongLanguage,
    check_voice_language,
    latin_language,
    main_script,
)


def test_scripts_and_common_words() -> None:
    assert main_script("こんにちは、世界。") == "kana"  # kanji and kana: Japanese
    assert main_script("你好，世界") == "han"
    assert main_script("नमस्ते दुनिया") == "devanagari"
    assert main_script("3.14 + 2") is None
    assert latin_language("Le chat est sur la table et il dort dans le salon.") == "fr"
    assert latin_language("The cat is on the table and it is asleep.") == "en"
    assert latin_language("OK, merci.") is None  # too little to tell


@pytest.mark.parametrize(
    ("text", "language", "says"),
    [
        ("こんにちは、元気ですか。", "en-us", "Japanese kana"),
        ("नमस्ते, आप कैसे हैं?", "fr-fr", "Devanagari"),
        ("Le chat est sur la table et il dort dans le salon.", "en-us", "looks French"),
        ("The weather is nice and the sun is out for the day.", "es", "looks English"),
    ],
)
def test_wrong_language_is_refused_with_what_to_do(text: str, language: str, says: str) -> None:
    with pytest.raises(WrongLanguage, match=says) as raised:
        check_voice_language(text, language, "some_voice")
    assert "Pick a" in raised.value.message and "some_voice" in raised.value.message


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hello there, this is the assistant.", "ja"),  # Latin letters: any voice reads them
        ("今日は Python の話です。", "ja"),
        ("你好", "en-us"),  # too short to judge
        ("Le chat est sur la table.", "fr-fr"),
        ("Some text.", "unknown"),
    ],
)
def test_speakable_or_unclear_text_passes(text: str, language: str) -> None:
    check_voice_language(text, language, "v")


@pytest.mark.slow
def test_kokoro_says_so_before_making_a_sound(tiny_kokoro_spec: ModelSpec) -> None:
    engine = KokoroEngine()
    engine.load(tiny_kokoro_spec, TtsLoadOptions(cpu_threads=1))
    try:
        with pytest.raises(WrongLanguage, match="af_test"):
            list(engine.synthesize("これは日本語の文です。", "af_test", SynthesisOptions()))
    finally:
        engine.unload()
