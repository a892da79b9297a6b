"""Task inputs: typed text, files by kind, line-per-item batch files, and the refusals.

No torch here: what a file is comes from its name, and the refusal says what the task
takes, so the Tasks screen can refuse before anything reaches the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backends.errors import BackendError
from backends.tasks.protocol import TASK_INPUTS, TASK_TITLES, InputKind, TaskInput

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus"})
MAX_BATCH_ITEMS = 10_000


class WrongInput(BackendError):
    title = "Wrong kind of input"


def kind_of_path(path: Path) -> InputKind:
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in AUDIO_SUFFIXES:
        return "audio"
    return "text"


def refusal(task: str, item: TaskInput) -> str | None:
    """Why `item` cannot go to a model of `task` (None when it can)."""
    wanted = TASK_INPUTS.get(task)
    if wanted is None or item.kind == wanted:
        if item.kind == "text" and not item.value.strip():
            return "The text is empty. Type something or pick a file."
        return None
    what = {"image": "an image", "audio": "audio", "text": "text"}
    given = Path(item.value).name if item.kind != "text" else "the typed text"
    return (
        f"This model does {TASK_TITLES.get(task, task).lower()}, which takes {what[wanted]}; "
        f"{given} is {what[item.kind]}. Give it {what[wanted]}, or load a model for "
        f"{what[item.kind]}."
    )


def input_from_path(path: Path) -> TaskInput:
    """A file as one input: a text file's text, or an image / audio path."""
    path = path.expanduser()
    if not path.is_file():
        raise WrongInput(f"No file at {path}. Check the path and try again.", title="No such file")
    kind = kind_of_path(path)
    if kind != "text":
        return TaskInput(kind, str(path.absolute()), path.name)
    text = _read_text(path)
    return TaskInput("text", text, text[:60])


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise WrongInput(
            f"Could not read {path}: {error.strerror}.", title="Unreadable file"
        ) from None
    if b"\0" in raw[:4096]:
        raise WrongInput(
            f"{path.name} is not a text file (nor an image or audio file this app knows by its "
            "name). Pick a .txt file, a picture or a sound file.",
        )
    return raw.decode("utf-8", errors="replace")


def read_batch_file(path: Path, wanted: InputKind) -> list[TaskInput]:
    """A line-per-item file: each non-empty line is a text, or for image and audio tasks a
    file path (relative paths are read from the batch file's folder)."""
    path = path.expanduser()
    lines = [line.strip() for line in _read_text(path).splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise WrongInput(f"{path.name} has no lines to run. Put one input per line.")
    if len(lines) > MAX_BATCH_ITEMS:
        raise WrongInput(
            f"{path.name} has {len(lines)} lines; a batch takes at most {MAX_BATCH_ITEMS}. "
            "Split the file."
        )
    if wanted == "text":
        return [TaskInput("text", line, line[:60]) for line in lines]
    items = []
    for line in lines:
        file = Path(line).expanduser()
        if not file.is_absolute():
            file = path.parent / file
        items.append(TaskInput(kind_of_path(file), str(file), file.name))
    return items


def parse_labels(text: str) -> tuple[str, ...]:
    """Comma-separated labels, blanks and repeats dropped; refused when none is left."""
    labels = tuple(dict.fromkeys(label.strip() for label in text.split(",") if label.strip()))
    if not labels:
        raise WrongInput(
            "Zero-shot classification needs labels to choose from. Type them separated by "
            "commas, e.g. 'sports, politics, music'.",
            title="No labels",
        )
    return labels


def check_mask(text: str, mask: str | None, truncated_to: int | None) -> None:
    if not mask:
        return
    count = text.count(mask)
    if count == 1:
        return
    if count == 0 and truncated_to is not None:
        raise WrongInput(
            f"The mask token {mask} was past the first {truncated_to} tokens, which is all "
            "this model reads. Put it earlier or shorten the text.",
            title="Mask cut off",
        )
    raise WrongInput(
        f"Put the mask token {mask} exactly once where the missing word goes "
        f"(found {count}), e.g. 'Paris is the {mask} of France.'",
        title="No mask" if count == 0 else "Several masks",
    )


def open_image(path: str) -> Any:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except FileNotFoundError:
        raise WrongInput(f"No file at {path}.", title="No such file") from None
    except (UnidentifiedImageError, OSError) as error:
        raise WrongInput(
            f"{Path(path).name} is not a picture this app can read ({error}).",
            title="Unreadable image",
        ) from None
