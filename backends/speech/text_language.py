"""Can this voice speak this text? A light guess from the script and common words.

No detector library is installed and a heavy one is not worth it for one question: a voice
fed a script it cannot read (Japanese text to an English voice) says nothing useful or
spells it out letter by letter. The script of the letters settles most cases; among the
Latin-script languages the engines speak, a handful of common words tells English from
French or Spanish once the text is long enough to be sure. Latin letters alone are never
refused to a voice of another script: names, code and English words mix into any text and
the engines read them.
"""

from __future__ import annotations

import re
import unicodedata

from backends.errors import BackendError

# Unicode character name prefix -> script; letters of other scripts count as "other".
_SCRIPTS = (
    ("LATIN", "latin"),
    ("CJK", "han"),
    ("HIRAGANA", "kana"),
    ("KATAKANA", "kana"),
    ("HANGUL", "hangul"),
    ("CYRILLIC", "cyrillic"),
    ("GREEK", "greek"),
    ("ARABIC", "arabic"),
    ("HEBREW", "hebrew"),
    ("DEVANAGARI", "devanagari"),
    ("THAI", "thai"),
)
SCRIPT_NAMES = {
    "han": "Chinese characters", "kana": "Japanese kana", "hangul": "Korean hangul",
    "cyrillic": "Cyrillic", "greek": "Greek", "arabic": "Arabic", "hebrew": "Hebrew",
    "devanagari": "Devanagari (Hindi)", "thai": "Thai", "latin": "Latin letters",
}  # fmt: skip
# The scripts a language (its primary subtag) is written in.
LANGUAGE_SCRIPTS: dict[str, set[str]] = {
    "ja": {"kana", "han"},
    "cmn": {"han"},
    "zh": {"han"},
    "yue": {"han"},
    "ko": {"hangul", "han"},
    "hi": {"devanagari"},
    "ru": {"cyrillic"},
    "uk": {"cyrillic"},
    "el": {"greek"},
    "ar": {"arabic"},
    "fa": {"arabic"},
    "he": {"hebrew"},
    "th": {"thai"},
}
# Common short words, enough to tell these languages apart in a sentence or two.
COMMON_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and is are of to in that it with for this you was have not".split()),
    "fr": frozenset("le la les des est et une un que qui dans pour pas avec sur je vous".split()),
    "es": frozenset("el la los las es y una que en por con para no del se muy".split()),
    "it": frozenset("il lo la gli che di è una per non con sono della questo".split()),
    "pt": frozenset("o os as é uma que não com para do da em você muito".split()),
    "de": frozenset("der die das und ist ein eine nicht mit ich sie zu auf den".split()),
    "nl": frozenset("de het een en is van niet met ik je dat op zijn voor".split()),
}
LANGUAGE_NAMES = {
    "en": "English", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "de": "German", "nl": "Dutch", "ja": "Japanese", "cmn": "Chinese", "zh": "Chinese",
    "hi": "Hindi", "ko": "Korean", "ru": "Russian",
}  # fmt: skip
MIN_LETTERS = 4
MIN_WORD_HITS = 3  # common words seen before a Latin-script language is named
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


class WrongLanguage(BackendError):
    title = "Wrong language for this voice"


def script_of(char: str) -> str | None:
    """The script of one letter ("latin", "kana", ...), "other", or None for a non-letter."""
    if not char.isalpha():
        return None
    name = unicodedata.name(char, "")
    for prefix, script in _SCRIPTS:
        if name.startswith(prefix):
            return script
    return "other"


def main_script(text: str) -> str | None:
    """The script most letters are written in; None for text with hardly any letters."""
    counts: dict[str, int] = {}
    for char in text:
        script = script_of(char)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    if sum(counts.values()) < MIN_LETTERS:
        return None
    if "kana" in counts and "han" in counts:  # Japanese mixes kanji with kana
        counts["kana"] += counts.pop("han")
    return max(counts, key=lambda s: counts[s])


def latin_language(text: str) -> str | None:
    """English, French, ... by their common words; None when the text does not say clearly."""
    words = [w.lower() for w in _WORD.findall(text)]
    hits = {lang: sum(w in common for w in words) for lang, common in COMMON_WORDS.items()}
    best = max(hits, key=lambda lang: hits[lang])
    runner_up = max(v for lang, v in hits.items() if lang != best)
    if hits[best] < MIN_WORD_HITS or hits[best] < 2 * runner_up:
        return None
    return best


def primary(language: str) -> str:
    """ "en-us" -> "en", "pt-br" -> "pt", "cmn" -> "cmn"."""
    return language.lower().replace("_", "-").split("-")[0]


def check_voice_language(text: str, language: str, voice: str) -> None:
    """Raise WrongLanguage when `text` is clearly in a language `voice` (which speaks
    `language`, a BCP 47 tag or an espeak name) cannot speak; silent when unsure."""
    lang = primary(language)
    if not lang or lang == "unknown":
        return
    script = main_script(text)
    if script is None:
        return
    scripts = LANGUAGE_SCRIPTS.get(lang, {"latin"})
    name = LANGUAGE_NAMES.get(lang, language)
    if script != "latin" and script not in scripts:
        raise WrongLanguage(
            f"This text is written in {SCRIPT_NAMES.get(script, 'another script')}, which the "
            f"voice {voice} ({name}) cannot read. Pick a voice of the text's language, or "
            "translate the text first."
        )
    if script == "latin" and scripts == {"latin"} and lang in COMMON_WORDS:
        found = latin_language(text)
        if found is not None and found != lang:
            raise WrongLanguage(
                f"This text looks {LANGUAGE_NAMES[found]}, and the voice {voice} speaks "
                f"{name}: it would mispronounce it. Pick a {LANGUAGE_NAMES[found]} voice "
                "(or a model that speaks it)."
            )
