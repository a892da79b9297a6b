"""The languages Whisper knows, by code and by English name, and a check with a message.

faster-whisper takes only codes and rejects anything else with a ValueError deep in its
tokenizer, which used to surface as "could not decode the audio". Checking the code before
decoding lets the user read what is wrong: the code, and how to give one.
"""

from __future__ import annotations

from backends.errors import UnsupportedOption

# Whisper's own table (openai/whisper tokenizer.py, also faster_whisper.tokenizer), in its order.
WHISPER_LANGUAGES: dict[str, str] = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian",
    "ko": "korean", "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish",
    "pl": "polish", "ca": "catalan", "nl": "dutch", "ar": "arabic", "sv": "swedish",
    "it": "italian", "id": "indonesian", "hi": "hindi", "fi": "finnish", "vi": "vietnamese",
    "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay", "cs": "czech",
    "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian",
    "la": "latin", "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak",
    "te": "telugu", "fa": "persian", "lv": "latvian", "bn": "bengali", "sr": "serbian",
    "az": "azerbaijani", "sl": "slovenian", "kn": "kannada", "et": "estonian",
    "mk": "macedonian", "br": "breton", "eu": "basque", "is": "icelandic", "hy": "armenian",
    "ne": "nepali", "mn": "mongolian", "bs": "bosnian", "kk": "kazakh", "sq": "albanian",
    "sw": "swahili", "gl": "galician", "mr": "marathi", "pa": "punjabi", "si": "sinhala",
    "km": "khmer", "sn": "shona", "yo": "yoruba", "so": "somali", "af": "afrikaans",
    "oc": "occitan", "ka": "georgian", "be": "belarusian", "tg": "tajik", "sd": "sindhi",
    "gu": "gujarati", "am": "amharic", "yi": "yiddish", "lo": "lao", "uz": "uzbek",
    "fo": "faroese", "ht": "haitian creole", "ps": "pashto", "tk": "turkmen",
    "nn": "nynorsk", "mt": "maltese", "sa": "sanskrit", "lb": "luxembourgish",
    "my": "myanmar", "bo": "tibetan", "tl": "tagalog", "mg": "malagasy", "as": "assamese",
    "tt": "tatar", "haw": "hawaiian", "ln": "lingala", "ha": "hausa", "ba": "bashkir",
    "jw": "javanese", "su": "sundanese", "yue": "cantonese",
}  # fmt: skip

_BY_NAME = {name: code for code, name in WHISPER_LANGUAGES.items()}
AUTO = ("", "auto")


def language_code(text: str | None) -> str | None:
    """A code Whisper takes for `text` ("fr", "French", " FR "), None for auto-detect.

    Raises UnsupportedOption naming the text and how to give a language.
    """
    value = (text or "").strip().lower()
    if value in AUTO:
        return None
    if value in WHISPER_LANGUAGES:
        return value
    if value in _BY_NAME:
        return _BY_NAME[value]
    raise UnsupportedOption(
        f"{text!r} is not a language Whisper knows. Type a language code such as en, fr, de, "
        "es, ja or zh (or its English name, e.g. French), or auto to detect the language. "
        f"Codes: {', '.join(sorted(WHISPER_LANGUAGES))}.",
        title="Unknown language",
    )


def language_name(code: str) -> str:
    """ "fr" -> "French"; an unknown code as it is."""
    name = WHISPER_LANGUAGES.get(code)
    return name.title() if name else code
