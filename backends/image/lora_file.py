"""Checking a LoRA path the user typed: when it is typed (the form) and when a job runs."""

from __future__ import annotations

from pathlib import Path

from backends.errors import UnsupportedOption

LORA_SUFFIXES = (".safetensors", ".pt", ".ckpt", ".bin")


def lora_problem(location: str) -> str | None:
    """Why this LoRA path cannot be used (a sentence that says what to do), or None."""
    path = Path(location).expanduser()
    if not path.exists():
        return f"No LoRA file at {path}. Check the path (a .safetensors file)."
    if path.is_dir():
        return f"{path} is a folder. Give the LoRA file in it (a .safetensors file)."
    if path.suffix.lower() not in LORA_SUFFIXES:
        return f"{path.name} is not a LoRA file. Give a .safetensors file made for this model."
    return None


def checked_lora(location: str) -> Path:
    """The LoRA file, or UnsupportedOption titled "LoRA not found" with the reason."""
    problem = lora_problem(location)
    if problem is not None:
        raise UnsupportedOption(problem, title="LoRA not found")
    return Path(location).expanduser()
