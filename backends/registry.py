"""Engine names -> modules, imported only when an engine is used.

A new runtime is one module in backends/chat (or backends/speech) plus one line here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from backends.base import ChatEngine
from backends.errors import MissingDependency, UnsupportedModel

if TYPE_CHECKING:
    from backends.speech.protocol import SpeechEngine

# name -> (module, class, pip extra that provides the runtime)
ENGINES: dict[str, tuple[str, str, str | None]] = {
    "transformers": ("backends.chat.transformers", "TransformersEngine", "transformers"),
    "llama_cpp": ("backends.chat.llama_cpp", "LlamaCppEngine", "gguf"),
    "openai": ("backends.chat.openai_compat", "OpenAICompatEngine", None),
    "faster_whisper": ("backends.speech.faster_whisper_engine", "FasterWhisperEngine", "speech"),
}

# Engines that are not chat engines; pickers show each kind where it belongs.
ENGINE_KINDS: dict[str, str] = {"faster_whisper": "speech"}

ENGINE_LABELS: dict[str, str] = {
    "transformers": "transformers",
    "llama_cpp": "llama.cpp",
    "openai": "OpenAI-compatible",
    "faster_whisper": "faster-whisper",
}


def engine_kind(name: str) -> str:
    """ "chat" or "speech" (the picker a model of this engine belongs in)."""
    return ENGINE_KINDS.get(name, "chat")


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


def create_speech_engine(name: str) -> SpeechEngine:
    """A fresh, unloaded speech engine (see create_engine)."""
    if engine_kind(name) != "speech":
        raise UnsupportedModel(f"{ENGINE_LABELS.get(name, name)} is not a speech engine.")
    engine: SpeechEngine = create_engine(name)  # type: ignore[assignment]
    return engine


def missing_runtime(name: str, package: str) -> MissingDependency:
    """The error an engine raises when its runtime library cannot be imported."""
    extra = ENGINES.get(name, ("", "", None))[2]
    hint = f"pip install 'localai-tui[{extra}]'" if extra else f"pip install {package}"
    return MissingDependency(
        f"The {ENGINE_LABELS.get(name, name)} engine needs {package}, which is not installed. "
        f"Install it with: {hint}"
    )
