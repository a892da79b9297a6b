"""Whisper through faster-whisper (CTranslate2): a model folder in, timed segments out.

The model is a CTranslate2 conversion (model.bin, config.json, vocabulary.json or .txt and
tokenizer.json), from the Hugging Face cache or any folder. faster-whisper decodes the
audio file itself (PyAV: wav, mp3, flac, ogg, m4a...), and its segment generator decodes
lazily, so segments reach the caller as they are decoded and cancel is checked between them.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from backends.base import EngineCapabilities, LoadProgress, MemoryFootprint, ModelSpec
from backends.errors import (
    AudioError,
    BackendError,
    LoadCancelled,
    ModelNotFound,
    OutOfMemory,
    UnsupportedModel,
    UnsupportedOption,
)
from backends.speech.languages import language_code
from backends.speech.protocol import (
    AudioInput,
    Segment,
    SpeechEvent,
    SpeechLoadOptions,
    TranscribeOptions,
    TranscriptionFinished,
    TranscriptionStarted,
)

if TYPE_CHECKING:
    from backends.base import ProgressCallback

log = logging.getLogger(__name__)

VOCABULARY_FILES = ("vocabulary.json", "vocabulary.txt")


def missing_model_files(folder: Path) -> list[str]:
    """The files a faster-whisper model folder lacks (empty when it is complete).

    Without tokenizer.json faster-whisper fetches one from the Hub, which fails offline
    after retries, so it counts as missing.
    """
    missing = [name for name in ("model.bin", "config.json") if not (folder / name).is_file()]
    if not any((folder / name).is_file() for name in VOCABULARY_FILES):
        missing.append("vocabulary.json")
    if not (folder / "tokenizer.json").is_file():
        missing.append("tokenizer.json")
    return missing


def resolve_device(device: str) -> str:
    """ "auto" -> "cuda" when CTranslate2 sees a CUDA device, else "cpu"."""
    if device != "auto":
        return device
    import ctranslate2

    try:
        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:  # a CPU-only build or a broken driver: the CPU always works
        return "cpu"


def resolve_compute_type(compute_type: str, device: str) -> str:
    """The default per device: int8 on the CPU, float16 on CUDA."""
    if compute_type != "default":
        return compute_type
    return "float16" if device == "cuda" else "int8"


def default_cpu_threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


class FasterWhisperEngine:
    name: ClassVar[str] = "faster_whisper"
    capabilities: ClassVar[EngineCapabilities] = EngineCapabilities(
        streaming=True,
        cancel=True,
        load_options=frozenset({"device", "compute_type", "cpu_threads"}),
    )

    def __init__(self) -> None:
        self._model: Any = None
        self._spec: ModelSpec | None = None
        self._device = "cpu"
        self._compute_type = "int8"

    @classmethod
    def warm_up(cls) -> None:
        """Engine-host hook: import faster-whisper (and CTranslate2, ~1 s here) in a spare
        host, so a new host loads a model without waiting for it."""
        try:
            import faster_whisper  # noqa: F401
        except ImportError:  # the load says how to install it
            pass

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def device(self) -> str:
        return self._device

    @property
    def compute_type(self) -> str:
        return self._compute_type

    @property
    def runtime(self) -> str:
        """ "cpu int8": where and how the model runs (empty before a load)."""
        return f"{self._device} {self._compute_type}" if self._model is not None else ""

    def runtime_label(self) -> str:
        """`runtime`, as a method a host can call."""
        return self.runtime

    def load(
        self,
        spec: ModelSpec,
        options: SpeechLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        folder = Path(spec.path or "").expanduser()
        if not spec.path or not folder.is_dir():
            raise ModelNotFound(
                f"No speech model folder at {spec.path or spec.name}. Download a faster-whisper "
                "model (a CTranslate2 Whisper repo) in the Hub screen, or point to its folder."
            )
        missing = missing_model_files(folder)
        if missing:
            raise UnsupportedModel(
                f"{folder} is not a faster-whisper model: {', '.join(missing)} missing. "
                "Use a CTranslate2 conversion of Whisper (e.g. Systran/faster-whisper-small)."
            )
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            from backends.registry import missing_runtime

            raise missing_runtime(self.name, "faster-whisper") from None
        device = resolve_device(options.device)
        compute_type = resolve_compute_type(options.compute_type, device)
        if progress is not None:
            progress(LoadProgress(None, f"Loading {spec.name} ({device}, {compute_type})…"))
        self.unload()
        try:
            model = WhisperModel(
                str(folder),
                device=device,
                compute_type=compute_type,
                cpu_threads=options.cpu_threads or default_cpu_threads(),
                local_files_only=True,
            )
        except (ValueError, RuntimeError) as exc:
            raise _load_error(exc, device, compute_type) from exc
        if cancel is not None and cancel.is_set():
            del model
            gc.collect()
            raise LoadCancelled(f"Loading {spec.name} was cancelled.")
        self._model, self._spec = model, spec
        self._device, self._compute_type = device, compute_type

    def transcribe(
        self,
        audio: AudioInput,
        options: TranscribeOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[SpeechEvent]:
        if self._model is None:
            raise BackendError("No speech model is loaded.", title="No model")
        started = time.perf_counter()
        if isinstance(audio, str):
            _check_audio_file(audio)
        language = language_code(options.language)  # an unknown one is not an audio problem
        try:
            segments, info = self._model.transcribe(
                audio,
                language=language,
                task=options.task,
                beam_size=options.beam_size,
                vad_filter=options.vad_filter,
                initial_prompt=options.initial_prompt,
            )
        except Exception as exc:  # PyAV and CTranslate2 raise their own types
            raise _audio_error(exc, audio) from exc
        yield TranscriptionStarted(
            language=info.language,
            language_probability=float(info.language_probability),
            duration_s=float(info.duration),
            duration_kept_s=float(getattr(info, "duration_after_vad", info.duration)),
        )
        count, reason, duration, covered = 0, "done", float(info.duration), 0.0
        pending = iter(segments)
        try:
            while True:
                # Checked before decoding the next segment, the only place it can stop.
                if cancel is not None and cancel.is_set():
                    reason = "cancelled"
                    break
                segment = next(pending, None)
                if segment is None:
                    break
                # Whisper can place a last timestamp past the end of the audio.
                covered = min(float(segment.end), duration)
                yield Segment(
                    index=count,
                    start=min(float(segment.start), duration),
                    end=covered,
                    text=_printable(segment.text),
                )
                count += 1
        finally:
            close = getattr(pending, "close", None)
            if close is not None:
                close()
        yield TranscriptionFinished(
            reason=reason,  # type: ignore[arg-type]
            segments=count,
            audio_s=duration if reason == "done" else covered,
            elapsed_s=time.perf_counter() - started,
        )

    def unload(self) -> None:
        if self._model is None:
            return
        self._model, self._spec = None, None
        gc.collect()

    def memory_footprint(self) -> MemoryFootprint:
        if self._spec is None or not self._spec.path:
            return MemoryFootprint()
        weights = Path(self._spec.path) / "model.bin"
        size = weights.stat().st_size if weights.is_file() else 0
        if self._device == "cuda":
            return MemoryFootprint(vram_bytes=size)
        return MemoryFootprint(ram_bytes=size)


def _check_audio_file(path: str) -> None:
    file = Path(path).expanduser()
    if not file.exists():
        raise AudioError(f"There is no file at {path}. Check the path (Tab completes it).")
    if file.is_dir():
        raise AudioError(f"{path} is a folder. Pick an audio file (wav, mp3, flac, ogg, m4a).")
    if file.stat().st_size == 0:
        raise AudioError(f"{path} is empty. Record or export the audio again.")


def _audio_error(exc: Exception, audio: AudioInput) -> BackendError:
    if isinstance(exc, BackendError):
        return exc
    if isinstance(exc, MemoryError):
        return OutOfMemory("Not enough memory to decode this audio. Try a shorter file.")
    where = audio if isinstance(audio, str) else "the recording"
    return AudioError(
        f"Could not decode {where} ({type(exc).__name__}: {exc}). Use a wav, mp3, flac, ogg "
        "or m4a file, or convert it first (e.g. ffmpeg -i IN -ar 16000 OUT.wav)."
    )


def _load_error(exc: Exception, device: str, compute_type: str) -> BackendError:
    text = str(exc)
    lowered = text.lower()
    if "compute type" in lowered or "compute_type" in lowered:
        return UnsupportedOption(
            f"{device} cannot run compute type {compute_type} here ({text}). Pick another "
            "compute type (int8 works on every CPU; float16 needs a GPU)."
        )
    if "cuda" in lowered or "cudnn" in lowered or "cublas" in lowered:
        return UnsupportedOption(
            f"CUDA is not usable for faster-whisper here ({text}). Set the speech device "
            "to cpu, or install the CUDA 12 libraries CTranslate2 needs."
        )
    if "out of memory" in lowered:
        return OutOfMemory(f"Not enough memory to load this model ({text}). Try a smaller one.")
    return UnsupportedModel(
        f"faster-whisper could not load this model ({text}). Check that it is a CTranslate2 "
        "conversion of Whisper."
    )


def _printable(text: str) -> str:
    """The segment's words without control characters.

    A model decoding noise (or a badly converted one) can emit byte tokens such as
    U+000B or U+0085: invisible on screen, yet line breaks to some readers, so the
    transcript, its subtitles and the text sent to the chat would disagree.
    """
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()
