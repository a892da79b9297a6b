"""Read-aloud: a streamed Markdown answer becomes the sentences a listener should hear."""

from __future__ import annotations

import pytest

from backends.speech.read_aloud import SpeakableText, plain, speakable_sentences

ANSWER = """# Sorting in Python

Use **sorted()** for a new list. It takes a `key` function, e.g. a lambda!

```python
print(sorted([3, 1, 2]))
# prints. many. dots.
```

| method | in place |
|---|---|
| sort | yes |

- `list.sort()` sorts in place
- See [the docs](https://docs.python.org/3/howto/sorting.html) for more.

> Stable sorts keep equal items in order. That is *useful*"""

EXPECTED = [
    "Sorting in Python",
    "Use sorted() for a new list.",
    "It takes a key function, e.g.",
    "a lambda!",
    "Code block.",
    "Table.",
    "list.sort() sorts in place",
    "See the docs for more.",
    "Stable sorts keep equal items in order.",
    "That is useful",
]


def stream(text: str, size: int) -> list[str]:
    reader = SpeakableText()
    out: list[str] = []
    for start in range(0, len(text), size):
        out += reader.feed(text[start : start + size])
    return out + reader.finish()


@pytest.mark.parametrize("size", [1, 3, 7, 40, 10_000])
def test_any_streaming_gives_the_same_sentences(size: int) -> None:
    assert stream(ANSWER, size) == EXPECTED


def test_a_sentence_is_ready_as_soon_as_the_next_one_begins() -> None:
    reader = SpeakableText()
    assert reader.feed("The first sentence ends here.") == []  # could be "here.com"
    assert reader.feed(" The") == ["The first sentence ends here."]
    assert reader.feed(" second is still being written") == []
    assert reader.finish() == ["The second is still being written"]


def test_a_code_block_is_said_once_and_never_read() -> None:
    assert speakable_sentences("Look:\n```\na = 1. b = 2. \n```\nDone.") == [
        "Look:",
        "Code block.",
        "Done.",
    ]


def test_markup_is_not_spoken() -> None:
    assert plain("**bold** _it_ `code` ![a cat](c.png) <b>x</b> ~~gone~~ snake_case") == (
        "bold it code a cat x gone snake_case"
    )
