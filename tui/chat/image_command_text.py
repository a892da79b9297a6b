"""What `/image a red square --steps 4 --size 64x64 --seed 7` asks for, read from the text."""

from __future__ import annotations

import re
from dataclasses import dataclass

COMMAND = "/image"
MAX_SEED = 2**32 - 1
_OPTION = re.compile(r"\s--(steps|seed|size|cfg)\s+(\S+)")


@dataclass(frozen=True)
class ImageCommand:
    """What `/image` asked for; None fields take the model's defaults."""

    prompt: str
    steps: int | None = None
    seed: int | None = None
    size: tuple[int, int] | None = None
    cfg: float | None = None


class CommandError(ValueError):
    """The command cannot run as typed; the text says how to write it."""


def parse_image_command(text: str) -> ImageCommand | None:
    """`/image a red square --steps 4 --size 64x64 --seed 7` → an ImageCommand; None when
    the text is not an image command (it goes to the chat model); CommandError when it is
    one but cannot run."""
    stripped = text.strip()
    if stripped != COMMAND and not stripped.startswith(COMMAND + " "):
        return None
    rest = " " + stripped[len(COMMAND) :]
    values: dict[str, str] = {}
    for match in _OPTION.finditer(rest):
        values[match.group(1)] = match.group(2)
    prompt = " ".join(_OPTION.sub(" ", rest).split())
    if not prompt:
        raise CommandError(
            "Say what the picture should show: /image a red square "
            "(options: --steps 20 --size 512x512 --seed 42 --cfg 7)."
        )
    try:
        steps = int(values["steps"]) if "steps" in values else None
        seed = int(values["seed"]) if "seed" in values else None
        cfg = float(values["cfg"]) if "cfg" in values else None
        size = None
        if "size" in values:
            width, _, height = values["size"].lower().partition("x")
            size = (int(width), int(height or width))
    except ValueError as exc:
        raise CommandError(
            f"Could not read the options of {text.strip()!r}: write them as "
            "--steps 20 --size 512x512 --seed 42 --cfg 7."
        ) from exc
    if steps is not None and not 1 <= steps <= 500:
        raise CommandError(f"--steps {steps}: use 1 to 500.")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise CommandError(f"--seed {seed}: use 0 to {MAX_SEED}.")
    return ImageCommand(prompt, steps=steps, seed=seed, size=size, cfg=cfg)
