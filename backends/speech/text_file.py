"""A .txt or .md file as text to read aloud (the Speak tab's "open a file").

A Markdown file is cut into the sentences read-aloud speaks (`speakable_sentences`): markup
left out, a code block said as "Code block.", a table as "Table."; one sentence a paragraph
so headings and list items keep their own pause. A text file is read as it is.
"""

from __future__ import annotations

from pathlib import Path

from backends.errors import BackendError
from backends.speech.read_aloud import speakable_sentences

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
MARKDOWN_SUFFIXES = (".md", ".markdown")
MAX_BYTES = 2_000_000  # about 40 hours of speech; more is surely the wrong file


class UnreadableText(BackendError):
    title = "Cannot open the text"


def read_speakable(path: Path) -> str:
    """The words to say from `path`; UnreadableText saying what is wrong and what to do."""
    target = path.expanduser()
    if target.suffix.lower() not in TEXT_SUFFIXES:
        raise UnreadableText(
            f"{target.name} is not a text file the Speak tab opens: name a .txt or .md file."
        )
    try:
        size = target.stat().st_size
        if not target.is_file():
            raise UnreadableText(f"{target} is a folder. Name a .txt or .md file inside it.")
        if size > MAX_BYTES:
            raise UnreadableText(
                f"{target.name} is {size // 1_000_000} MB of text, too long to read aloud "
                f"here (at most {MAX_BYTES // 1_000_000} MB). Open a part of it."
            )
        raw = target.read_bytes()
    except FileNotFoundError:
        raise UnreadableText(
            f"There is no file {target}. Check the path (Tab completes)."
        ) from None
    except OSError as exc:
        raise UnreadableText(f"Could not read {target}: {exc.strerror or exc}.") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableText(
            f"{target.name} is not UTF-8 text (a binary file, or another encoding). Save it as "
            "UTF-8 and open it again."
        ) from None
    if target.suffix.lower() in MARKDOWN_SUFFIXES:
        return "\n\n".join(speakable_sentences(text))
    return text.strip()
