"""The chat contract every engine honours, and the typed events it yields.

Engine calls are synchronous and blocking; callers choose the thread. Streams
yield `TextDelta`s (and `ReasoningDelta`s: a reasoning model's thinking) and end with
exactly one `StreamFinished`, also when cancelled (finish_reason "cancelled", the partial
text having already been yielded).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

# Pictures go to a model at most this many pixels on their longest side (imported by
# others from here too).
from backends.image_limits import DEFAULT_IMAGE_MAX_SIDE

Role = Literal["system", "user", "assistant", "tool"]
# "length": max_new_tokens reached; "context": the context window filled up first;
# "tool_calls": the model asked for tools (a ToolCallsRequested came before the end).
FinishReason = Literal["stop", "length", "context", "cancelled", "tool_calls"]
Device = Literal["auto", "cuda", "cpu", "mps"]
DType = Literal["auto", "float32", "float16", "bfloat16"]
Quantization = Literal["none", "int8", "int4", "nf4"]


SERVER_KINDS: tuple[str, ...] = ("openai", "a1111", "comfyui")


@dataclass(frozen=True)
class ServerConfig:
    """A server the app is a client of: OpenAI-compatible (vLLM, Ollama, TGI, llama-server,
    LM Studio, LocalAI, speaches), AUTOMATIC1111 / Forge, or ComfyUI.

    The key and the extra headers are secrets: kept out of `repr` (so out of logs and
    tracebacks) and out of the recents file (backends/models/manager.py).
    """

    name: str
    base_url: str  # e.g. "http://127.0.0.1:8000/v1"; A1111 / ComfyUI: the root URL
    api_key: str | None = field(default=None, repr=False)
    kind: str = "openai"  # one of SERVER_KINDS
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # auth proxies
    ca_file: str | None = None  # a PEM bundle to trust for https (a private CA)
    timeout_s: float = 600.0  # longest wait for one answer (a big image takes minutes)
    connect_timeout_s: float = 5.0


@dataclass(frozen=True)
class ModelSpec:
    """A model the user can pick: where it lives and which engine runs it.

    `key` is stable across runs (used for recents and per-model settings):
    "gguf:<abs path>", "hf:<repo_id>", "openai:<server name>/<model>", "demo:smollm2".
    """

    key: str
    name: str
    engine: str  # a name in backends.registry.ENGINES
    path: str | None = None  # local file (GGUF) or directory (transformers snapshot)
    repo_id: str | None = None
    size_bytes: int | None = None
    source: Literal["hf-cache", "folder", "demo", "server", "path"] = "path"
    server: ServerConfig | None = None
    remote_model: str | None = None  # the model id the server lists
    projector: str | None = None  # llama.cpp vision: the mmproj GGUF beside the model
    # What it does: a pipeline task (engine "transformers_tasks"), or, on a transformers
    # repo, a task no engine here runs (backends.models.model_kind: "unsupported").
    task: str | None = None


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model. Engines ignore options that do not apply to them."""

    device: Device = "auto"
    dtype: DType = "auto"
    quantization: Quantization = "none"
    trust_remote_code: bool = False
    adapters: tuple[str, ...] = ()  # LoRA/PEFT adapter directories or repo ids
    n_ctx: int = 4096
    n_gpu_layers: int = -1  # llama.cpp: -1 offloads all layers when a GPU build is present
    n_threads: int | None = None  # None: cores - 1 (leave one for the UI)
    n_threads_batch: int | None = None  # None: cores - 1 too (all cores collapse when busy)
    # llama.cpp: use the repacked CPU kernels ("extra buffer types"). Turned off after a
    # SIGILL on CPUs that report features (AMX) they do not allow; see llama_repack.py.
    use_extra_bufts: bool = True


@dataclass(frozen=True)
class ImageAttachment:
    """An image given to a vision model: a file path, or the encoded bytes (PNG, JPEG...).

    Frozen and picklable, so a message with images can go to an engine host. Engines send
    it scaled down to `max_side` pixels on its longest side (None: as it is); see
    backends.chat.image_fit. Read it with backends.chat.images.read_attachment.
    """

    path: str | None = None
    data: bytes | None = None
    mime: str | None = None  # guessed from the path or the bytes when not given
    max_side: int | None = DEFAULT_IMAGE_MAX_SIDE


@dataclass(frozen=True)
class ToolSpec:
    """A tool a model may call: its name, what it does, and its arguments' JSON schema."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def as_openai(self) -> dict[str, Any]:
        """The OpenAI `tools` entry, which chat templates with tools also take."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True)
class ToolCall:
    """One call a model asked for; `arguments` is the JSON text as the model wrote it."""

    id: str
    name: str
    arguments: str = "{}"

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; ValueError saying what is wrong when they are not."""
        import json

        try:
            value = json.loads(self.arguments or "{}")
        except ValueError as error:
            raise ValueError(f"the arguments are not valid JSON ({error})") from None
        if not isinstance(value, dict):
            raise ValueError("the arguments are not a JSON object")
        return value


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str
    images: tuple[ImageAttachment, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()  # an assistant turn that called tools
    tool_call_id: str | None = None  # a "tool" turn: the call it answers
    name: str | None = None  # a "tool" turn: the tool's name


@dataclass(frozen=True)
class GenerationParams:
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    max_new_tokens: int = 512
    repetition_penalty: float = 1.0
    seed: int | None = None
    # False asks a reasoning model not to think, where its chat template (`enable_thinking`)
    # or the server (`chat_template_kwargs`, `reasoning_effort`) lets us; others ignore it.
    thinking: bool = True
    # Tools the model may call this turn (only where capabilities.tools says it can).
    tools: tuple[ToolSpec, ...] = ()


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer, in order."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """A piece of the model's thinking before its answer (shown apart, never sent back)."""

    text: str


@dataclass(frozen=True)
class ToolCallsRequested:
    """The model asks for these tools (whole calls, arguments complete), before the end."""

    calls: tuple[ToolCall, ...]


@dataclass(frozen=True)
class StreamFinished:
    """The last event of every stream."""

    finish_reason: FinishReason
    prompt_tokens: int | None
    completion_tokens: int
    ttft_s: float | None  # time from the call to the first text of the answer
    total_s: float
    first_thought_s: float | None = None  # time to the first thought (reasoning models)
    thinking_s: float | None = None  # from the first thought to the answer (or the end)

    @property
    def tokens_per_s(self) -> float | None:
        """Decode rate: tokens after the first over the time after the first (thoughts
        are tokens too, so a reasoning answer counts from its first thought)."""
        first = self.first_thought_s if self.first_thought_s is not None else self.ttft_s
        if first is None or self.completion_tokens < 2:
            return None
        decode = self.total_s - first
        return (self.completion_tokens - 1) / decode if decode > 0 else None


@dataclass(frozen=True)
class Notice:
    """Something the user should see about this stream or load (not an error)."""

    text: str


@dataclass(frozen=True)
class RequestSent:
    """The request is on the wire: what is left until the first token is the server's.

    Yielded once, before anything else, by an engine whose capabilities say `reports_sent`.
    A caller holds its own work (drawing the sent message) until then, so that work does
    not compete with sending for the GIL (bench/remote_chat.py: the request reached the
    server ~10 ms later when the views mounted meanwhile).
    """


ChatEvent = TextDelta | ReasoningDelta | ToolCallsRequested | StreamFinished | Notice | RequestSent


@dataclass(frozen=True)
class LoadProgress:
    fraction: float | None  # None: indeterminate
    message: str


ProgressCallback = Callable[[LoadProgress], None]


@dataclass(frozen=True)
class EngineCapabilities:
    """What the TUI may offer for an engine; it never looks at class names.

    An engine's `capabilities` describe the *loaded model* once `load` returns (a GGUF
    with its mmproj can see; the same engine with a text-only model cannot); before
    that, or after `unload`, the engine class's defaults.
    """

    streaming: bool = True
    cancel: bool = True
    vision: bool = False  # the loaded model takes images
    tools: bool = False  # the loaded model can call tools (its template or server says so)
    # False: the loaded model carries no chat template (a base model), so answers continue
    # a plain transcript; the chat header says so for as long as it is loaded.
    chat_template: bool = True
    lists_models: bool = False  # a server that can be asked for its models
    holds_memory: bool = True  # False for remote engines
    reports_sent: bool = False  # its stream starts with RequestSent once the request is out
    load_options: frozenset[str] = field(default_factory=frozenset)  # LoadOptions fields used


@dataclass(frozen=True)
class MemoryFootprint:
    """What a loaded model holds, as far as the engine can tell."""

    ram_bytes: int = 0
    vram_bytes: int = 0


@runtime_checkable
class ChatEngine(Protocol):
    name: ClassVar[str]
    # The loaded model's (an instance attribute set by `load`), else the class's defaults.
    capabilities: EngineCapabilities

    def load(
        self,
        spec: ModelSpec,
        options: LoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Load the model; raise a BackendError subclass with a clear message on failure.

        If `cancel` is set before loading finishes, release what was loaded and
        raise LoadCancelled.
        """
        ...

    def stream(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[ChatEvent]:
        """Yield the answer as TextDeltas, then one StreamFinished.

        Setting `cancel` ends the stream promptly with finish_reason "cancelled".
        """
        ...

    def unload(self) -> None:
        """Release the model and its memory; safe to call twice."""
        ...

    @property
    def loaded(self) -> bool: ...

    def memory_footprint(self) -> MemoryFootprint: ...
