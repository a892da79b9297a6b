"""`generate_image`: the model asks for a picture; the app makes it with its image model.

This module reads and checks the call's arguments and words the result for the model; the
caller gives `make`, which does the work the way `/image` does in the chat (the current
image model, the gallery row with A1111 parameters, the picture in the conversation) and
raises `ToolRefused` with a sentence when it cannot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backends.base import ToolSpec
from backends.tools.builtin import ToolRefused

GENERATE_IMAGE = "generate_image"
MAX_STEPS = 500
MAX_SIDE = 4096
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class PictureAsked:
    """What the call asked for; None takes the image model's default (seed: a random one)."""

    prompt: str
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    seed: int | None = None


@dataclass(frozen=True)
class PictureMade:
    """The saved picture, as the model hears of it."""

    path: str
    width: int
    height: int
    seed: int
    steps: int
    model: str
    gallery_id: int | None = None

    def result_text(self) -> str:
        gallery = f", gallery #{self.gallery_id}" if self.gallery_id is not None else ""
        return (
            f"The picture was made and is shown in the chat. File: {self.path} "
            f"({self.width}x{self.height} px, seed {self.seed}, {self.steps} steps, "
            f"model {self.model}{gallery})."
        )


def _whole(arguments: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = arguments.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)  # small models often quote numbers
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolRefused(f"`{name}` must be a whole number, not {value!r}.")
    if not low <= value <= high:
        raise ToolRefused(f"`{name}` = {value} is out of range: use {low} to {high}.")
    return value


def read_picture_call(arguments: dict[str, Any]) -> PictureAsked:
    """The call's arguments, checked; ToolRefused says which one is wrong and why."""
    prompt = arguments.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ToolRefused("The call has no `prompt` argument (what the picture should show).")
    return PictureAsked(
        " ".join(prompt.split()),
        width=_whole(arguments, "width", 8, MAX_SIDE),
        height=_whole(arguments, "height", 8, MAX_SIDE),
        steps=_whole(arguments, "steps", 1, MAX_STEPS),
        seed=_whole(arguments, "seed", 0, MAX_SEED),
    )


def image_tool(make: Callable[[PictureAsked], PictureMade]) -> tuple[ToolSpec, Callable[..., str]]:
    """The tool's spec and its run function (arguments -> the text the model gets)."""

    def run(arguments: dict[str, Any]) -> str:
        return make(read_picture_call(arguments)).result_text()

    number = {"type": "integer"}
    schema = {
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "description": "What the picture should show"},
            "width": {**number, "description": "Width in pixels (optional)"},
            "height": {**number, "description": "Height in pixels (optional)"},
            "steps": {**number, "description": "Sampling steps (optional)"},
            "seed": {**number, "description": "Seed, for a repeatable picture (optional)"},
        },
        "required": ["prompt"],
    }
    spec = ToolSpec(
        GENERATE_IMAGE,
        "Make a picture from a text prompt with the user's image model; it is shown in the "
        "chat and saved to the gallery.",
        schema,
    )
    return spec, run
