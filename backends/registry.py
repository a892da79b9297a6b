"""Engine names -> modules, imported only when an engine is used.

A new runtime is one module in backends/chat plus one line here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from backends.base import ChatEngine
from backends.errors import MissingDependency, UnsupportedModel

if TYPE_CHECKING:
    from backends.image.protocol import ImageEngine

# name -> (module, class, pip extra that provides the runtime)
ENGINES: dict[str, tuple[str, str, str | None]] = {
    "transformers": ("backends.chat.transformers", "TransformersEngine", "transformers"),
    "llama_cpp": ("backends.chat.llama_cpp", "LlamaCppEngine", "gguf"),
    "openai": ("backends.chat.openai_compat", "OpenAICompatEngine", None),
}

ENGINE_LABELS: dict[str, str] = {
    "transformers": "transformers",
    "llama_cpp": "llama.cpp",
    "openai": "OpenAI-compatible",
    "diffusers": "diffusers",
    "sdcpp": "stable-diffusion.cpp",
}

# Image engines (backends/image): name -> (module, class, pip extra that provides the runtime)
IMAGE_ENGINES: dict[str, tuple[str, str, str | None]] = {
    "diffusers": ("backends.image.diffusers_engine", "DiffusersEngine", "image"),
    "sdcpp": ("backends.image.sdcpp_engine", "StableDiffusionCppEngine", "sdcpp"),
}


def create_engine(name: str) -> ChatEngine:
    """A fresh, unloaded engine; MissingDependency if its runtime is absent."""
    try:
        module_name, class_name, extra = ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(ENGINES))
        raise UnsupportedModel(f"No engine named {name!r}. Known engines: {known}.") from None
    module = importlib.import_module(module_name)
    engine_class = getattr(module, class_name)
    engine: ChatEngine = engine_class()
    return engine


def create_image_engine(name: str) -> ImageEngine:
    """A fresh, unloaded image engine (in this process); the caller may host it instead."""
    try:
        module_name, class_name, _extra = IMAGE_ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(IMAGE_ENGINES))
        raise UnsupportedModel(f"No image engine named {name!r}. Known: {known}.") from None
    engine: ImageEngine = getattr(importlib.import_module(module_name), class_name)()
    return engine


def missing_runtime(name: str, package: str) -> MissingDependency:
    """The error an engine raises when its runtime library cannot be imported."""
    extra = {**ENGINES, **IMAGE_ENGINES}.get(name, ("", "", None))[2]
    hint = f"pip install 'localai-tui[{extra}]'" if extra else f"pip install {package}"
    return MissingDependency(
        f"The {ENGINE_LABELS.get(name, name)} engine needs {package}, which is not installed. "
        f"Install it with: {hint}"
    )
