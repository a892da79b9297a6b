"""Engine names -> modules, imported only when an engine is used.

A new runtime is one module in backends/chat (or image/, speech/) plus one line here.
Entries with `hosted=True` run in their own process (backends/host): `create_engine`
returns a `HostedChatEngine` proxy for them, unless the caller asks for `hosted=False`
(tests and benchmarks that compare the two). Engine modules must import cheaply (heavy
runtimes inside functions): the app imports them to read the class's capabilities.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from backends.errors import MissingDependency, UnsupportedModel

if TYPE_CHECKING:
    from backends.base import ChatEngine
    from backends.embeddings.protocol import EmbeddingEngine
    from backends.image.protocol import ImageEngine
    from backends.speech.protocol import SpeechEngine
    from backends.speech.synthesis import SpeechSynthesizer
    from backends.tasks.protocol import TaskEngine


class EngineEntry(NamedTuple):
    module: str
    cls: str
    extra: str | None  # the pip extra that provides the runtime
    hosted: bool = False  # runs in an engine host process


ENGINES: dict[str, EngineEntry | tuple[str, str, str | None]] = {
    "transformers": EngineEntry(
        "backends.chat.transformers", "TransformersEngine", "transformers", hosted=True
    ),
    "llama_cpp": EngineEntry("backends.chat.llama_cpp", "LlamaCppEngine", "gguf", hosted=True),
    # Only HTTP: nothing native to crash, no memory to give back.
    "openai": EngineEntry("backends.chat.openai_compat", "OpenAICompatEngine", None),
    "diffusers": EngineEntry(
        "backends.image.diffusers_engine", "DiffusersEngine", "image", hosted=True
    ),
    # Hosted also because its C call cannot be stopped: ending the host process can.
    "sdcpp": EngineEntry(
        "backends.image.sdcpp_engine", "StableDiffusionCppEngine", "sdcpp", hosted=True
    ),
    "faster_whisper": EngineEntry(
        "backends.speech.faster_whisper_engine", "FasterWhisperEngine", "speech", hosted=True
    ),
    "transformers_tasks": EngineEntry(
        "backends.tasks.transformers_tasks", "TransformersTaskEngine", "transformers", hosted=True
    ),
    "kokoro": EngineEntry("backends.speech.kokoro_engine", "KokoroEngine", "tts", hosted=True),
    "pocket_tts": EngineEntry(
        "backends.speech.pocket_tts_engine", "PocketTtsEngine", "pocket", hosted=True
    ),
    # Remote servers (backends/remote): HTTP only, so not hosted; Pillow decodes their images.
    "a1111": EngineEntry("backends.image.a1111_engine", "A1111Engine", "image"),
    "comfyui": EngineEntry("backends.image.comfyui_engine", "ComfyUIEngine", "image"),
    "openai_images": EngineEntry(
        "backends.image.openai_images_engine", "OpenAIImagesEngine", "image"
    ),
    "openai_stt": EngineEntry(
        "backends.speech.openai_transcription_engine", "OpenAITranscriptionEngine", None
    ),
    "openai_embeddings": EngineEntry(
        "backends.embeddings.openai_embeddings", "OpenAIEmbeddingEngine", None
    ),
    "openai_tts": EngineEntry("backends.speech.openai_tts", "OpenAITtsEngine", None),
    # Over the (hosted) task engine's feature-extraction.
    "transformers_embeddings": EngineEntry(
        "backends.embeddings.transformers_embeddings", "TransformersEmbeddingEngine", "transformers"
    ),
}

# Engines that are not chat engines; pickers show each kind where it belongs.
ENGINE_KINDS: dict[str, str] = {
    "faster_whisper": "speech",
    "kokoro": "tts",
    "pocket_tts": "tts",
    "diffusers": "image",
    "sdcpp": "image",
    "transformers_tasks": "tasks",
    "a1111": "image",
    "comfyui": "image",
    "openai_images": "image",
    "openai_stt": "speech",
    "openai_embeddings": "embeddings",
    "openai_tts": "tts",
    "transformers_embeddings": "embeddings",
}

ENGINE_LABELS: dict[str, str] = {
    "transformers": "transformers",
    "llama_cpp": "llama.cpp",
    "openai": "OpenAI-compatible",
    "diffusers": "diffusers",
    "sdcpp": "stable-diffusion.cpp",
    "faster_whisper": "faster-whisper",
    "transformers_tasks": "transformers pipeline",
    "kokoro": "Kokoro (ONNX)",
    "pocket_tts": "Pocket TTS",
    "a1111": "AUTOMATIC1111",
    "comfyui": "ComfyUI",
    "openai_images": "OpenAI images",
    "openai_stt": "OpenAI transcription",
    "openai_embeddings": "OpenAI embeddings",
    "openai_tts": "OpenAI speech",
    "transformers_embeddings": "transformers embeddings",
}


def engine_kind(name: str) -> str:
    """ "chat", "image", "speech", "tts", "embeddings" or "tasks": the picker a model of
    this engine belongs in."""
    return ENGINE_KINDS.get(name, "chat")


def engine_entry(name: str) -> EngineEntry:
    try:
        entry = ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(ENGINES))
        raise UnsupportedModel(f"No engine named {name!r}. Known engines: {known}.") from None
    return EngineEntry(*entry)


def engine_class(name: str) -> type[Any]:
    """The engine's class, imported (cheap: engines import their runtime lazily)."""
    entry = engine_entry(name)
    return getattr(importlib.import_module(entry.module), entry.cls)  # type: ignore[no-any-return]


def create_engine(name: str, *, hosted: bool | None = None) -> ChatEngine:
    """A fresh, unloaded engine: a hosted proxy for hosted entries (unless `hosted=False`).

    `hosted=None` follows the entry. Errors: UnsupportedModel for an unknown name; a
    missing runtime shows as MissingDependency when the model loads.
    """
    if engine_kind(name) != "chat":
        raise UnsupportedModel(f"{ENGINE_LABELS.get(name, name)} is not a chat engine.")
    entry = engine_entry(name)
    cls = engine_class(name)
    if hosted if hosted is not None else entry.hosted:
        from backends.host.chat_proxy import HostedChatEngine

        hosted_engine = HostedChatEngine(
            cls, f"{entry.module}:{entry.cls}", label=ENGINE_LABELS.get(name, name)
        )
        # Its name is the hosted class's, set per instance (the protocol's ClassVar
        # cannot say that); its capabilities are the loaded model's, asked after load.
        return cast("ChatEngine", hosted_engine)
    engine: ChatEngine = cls()
    return engine


def create_image_engine(name: str, *, hosted: bool | None = None) -> ImageEngine:
    """A fresh, unloaded image engine: a hosted proxy for hosted entries (see create_engine)."""
    if engine_kind(name) != "image":
        raise UnsupportedModel(f"{ENGINE_LABELS.get(name, name)} is not an image engine.")
    entry = engine_entry(name)
    if hosted if hosted is not None else entry.hosted:
        from backends.image.hosted import HostedImageEngine

        # Its name is the hosted class's, set per instance (the protocol's ClassVar).
        return cast(
            "ImageEngine",
            HostedImageEngine(f"{entry.module}:{entry.cls}", label=ENGINE_LABELS.get(name, name)),
        )
    engine: ImageEngine = engine_class(name)()
    return engine


def create_speech_engine(name: str, *, hosted: bool | None = None) -> SpeechEngine:
    """A fresh, unloaded speech engine: a hosted proxy for hosted entries (see create_engine)."""
    if engine_kind(name) != "speech":
        raise UnsupportedModel(f"{ENGINE_LABELS.get(name, name)} is not a speech engine.")
    entry = engine_entry(name)
    cls = engine_class(name)
    if hosted if hosted is not None else entry.hosted:
        from backends.host.speech_proxy import HostedSpeechEngine

        proxy = HostedSpeechEngine(
            cls, f"{entry.module}:{entry.cls}", label=ENGINE_LABELS.get(name, name)
        )
        return cast("SpeechEngine", proxy)
    engine: SpeechEngine = cls()
    return engine


def create_task_engine(name: str, *, hosted: bool | None = None) -> TaskEngine:
    """A fresh, unloaded task engine: a hosted proxy for hosted entries (see create_engine)."""
    if engine_kind(name) != "tasks":
        raise UnsupportedModel(f"{ENGINE_LABELS.get(name, name)} is not a task engine.")
    entry = engine_entry(name)
    cls = engine_class(name)
    if hosted if hosted is not None else entry.hosted:
        from backends.host.task_proxy import HostedTaskEngine

        proxy = HostedTaskEngine(
            cls, f"{entry.module}:{entry.cls}", label=ENGINE_LABELS.get(name, name)
        )
        return cast("TaskEngine", proxy)
    engine: TaskEngine = cls()
    return engine


def create_embedding_engine(name: str) -> EmbeddingEngine:
    """A fresh, unloaded embedding engine (none is hosted: they are HTTP clients so far)."""
    if engine_kind(name) != "embeddings":
        raise UnsupportedModel(f"{ENGINE_LABELS.get(name, name)} is not an embedding engine.")
    engine: EmbeddingEngine = engine_class(name)()
    return engine


def missing_runtime(name: str, package: str) -> MissingDependency:
    """The error an engine raises when its runtime library cannot be imported."""
    extra = EngineEntry(*ENGINES[name]).extra if name in ENGINES else None
    hint = f"pip install 'localai-tui[{extra}]'" if extra else f"pip install {package}"
    return MissingDependency(
        f"The {ENGINE_LABELS.get(name, name)} engine needs {package}, which is not installed. "
        f"Install it with: {hint}"
    )


def create_tts_engine(name: str, *, hosted: bool | None = None) -> SpeechSynthesizer:
    """A fresh, unloaded text-to-speech engine: a hosted proxy for hosted entries."""
    if engine_kind(name) != "tts":
        raise UnsupportedModel(f"{ENGINE_LABELS.get(name, name)} is not a text-to-speech engine.")
    entry = engine_entry(name)
    cls = engine_class(name)
    if hosted if hosted is not None else entry.hosted:
        from backends.host.tts_proxy import HostedTtsEngine

        proxy = HostedTtsEngine(cls, f"{entry.module}:{entry.cls}", label=ENGINE_LABELS[name])
        return cast("SpeechSynthesizer", proxy)
    engine: SpeechSynthesizer = cls()
    return engine
