"""The status line shown while a model loads: the engine's step, naming the model once."""

from __future__ import annotations


def load_line(name: str, step: str = "") -> str:
    """What a screen shows while `name` loads and its engine reports `step`.

    Engines word their steps their own way: some name the model ("Loading tiny-sd…"),
    some do not ("Loading weights"). Prefixing the name to every step read
    "tiny-sd: Loading tiny-sd…", so the name is added only where the step lacks it."""
    step = step.strip()
    if not step:
        return f"Loading {name}…"
    if name in step:
        return step
    return f"{name}: {step}"
