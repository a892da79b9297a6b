"""Kokoro-82M through kokoro-onnx (onnxruntime, no torch): text in, 24 kHz speech out.

A model is a folder (or an .onnx file) holding the ONNX export (`kokoro-v1.0.onnx`, its int8
or fp16 variants) and a voices file (`voices-v1.0.bin` or any `.npz` of style vectors) beside
it. kokoro-onnx phonemizes with espeak-ng (espeakng-loader ships the library). The text is
split at sentence ends and each piece is made and yielded on its own, so the first sound is
ready after the first sentence; cancel is checked between pieces.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from backends.base import EngineCapabilities, LoadProgress, MemoryFootprint, ModelSpec
from backends.errors import (
    BackendError,
    GenerationError,
    LoadCancelled,
    ModelNotFound,
    UnsupportedModel,
    UnsupportedOption,
)
from backends.speech.synthesis import (
    AudioChunk,
    SynthesisEvent,
    SynthesisFinished,
    SynthesisOptions,
    SynthesisStarted,
    TtsLoadOptions,
    UnknownVoice,
    Voice,
    pieces_to_say,
)
from backends.speech.text_language import check_voice_language

if TYPE_CHECKING:
    from backends.base import ProgressCallback

VOICE_SUFFIXES = (".bin", ".npz")
MIN_SPEED, MAX_SPEED = 0.5, 2.0  # what kokoro-onnx accepts

# Kokoro voice ids start with a language letter and a gender letter: "af_heart" is an
# American English female voice. Languages as espeak-ng names them (what kokoro-onnx takes).
VOICE_LANGUAGES = {
    "a": "en-us",
    "b": "en-gb",
    "e": "es",
    "f": "fr-fr",
    "h": "hi",
    "i": "it",
    "j": "ja",
    "p": "pt-br",
    "z": "cmn",
}
GENDERS = {"f": "female", "m": "male"}
REPO_HINT = "e.g. the kokoro-onnx release files kokoro-v1.0.onnx and voices-v1.0.bin"


def default_cpu_threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def voice_info(voice_id: str) -> Voice:
    """What a Kokoro voice id says about its language and gender."""
    prefix, _, _ = voice_id.partition("_")
    language = VOICE_LANGUAGES.get(prefix[:1], "unknown") if len(prefix) == 2 else "unknown"
    gender = GENDERS.get(prefix[1:2], "unknown") if len(prefix) == 2 else "unknown"
    return Voice(voice_id, language, gender)  # type: ignore[arg-type]


def model_files(path: Path) -> tuple[Path, Path]:
    """(the .onnx model, the voices file) for a folder or an .onnx path; ModelNotFound or
    UnsupportedModel saying what is missing."""
    folder = path if path.is_dir() else path.parent
    if path.is_file() and path.suffix == ".onnx":
        models = [path]
    elif path.is_dir():
        models = sorted(folder.glob("*.onnx"), key=lambda p: (len(p.name), p.name))
    else:
        raise ModelNotFound(
            f"No Kokoro model at {path}. Point to a folder with a Kokoro ONNX export and its "
            f"voices ({REPO_HINT})."
        )
    voices = sorted(p for p in folder.iterdir() if p.suffix in VOICE_SUFFIXES)
    if not models or not voices:
        missing = [what for what, found in (("an .onnx model", models), ("a voices file "
                   "(.bin or .npz)", voices)) if not found]  # fmt: skip
        raise UnsupportedModel(
            f"{folder} is not a Kokoro model folder: {' and '.join(missing)} missing ({REPO_HINT})."
        )
    return models[0], voices[0]


class KokoroEngine:
    name: ClassVar[str] = "kokoro"
    capabilities: ClassVar[EngineCapabilities] = EngineCapabilities(streaming=True, cancel=True)

    def __init__(self) -> None:
        self._kokoro: Any = None
        self._spec: ModelSpec | None = None
        self._model_path: Path | None = None
        self._voices: list[Voice] = []
        self._threads = 0

    @property
    def loaded(self) -> bool:
        return self._kokoro is not None

    def load(
        self,
        spec: ModelSpec,
        options: TtsLoadOptions | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        model, voices = model_files(Path(spec.path or spec.name).expanduser())
        try:
            from kokoro_onnx import Kokoro
        except ImportError:
            from backends.registry import missing_runtime

            raise missing_runtime(self.name, "kokoro-onnx") from None
        if progress is not None:
            progress(LoadProgress(None, f"Loading {spec.name}…"))
        self.unload()
        threads = (options or TtsLoadOptions()).cpu_threads or default_cpu_threads()
        try:
            import onnxruntime

            session_options = onnxruntime.SessionOptions()
            session_options.intra_op_num_threads = threads
            session = onnxruntime.InferenceSession(
                str(model), sess_options=session_options, providers=["CPUExecutionProvider"]
            )
            kokoro = Kokoro.from_session(session, str(voices))
        except Exception as exc:  # onnxruntime and numpy raise their own types
            raise UnsupportedModel(
                f"kokoro-onnx could not load {model.name} with {voices.name} "
                f"({type(exc).__name__}: {exc}). Check that it is a Kokoro ONNX export and "
                "its voices file."
            ) from exc
        if cancel is not None and cancel.is_set():
            del kokoro
            gc.collect()
            raise LoadCancelled(f"Loading {spec.name} was cancelled.")
        names = [str(name) for name in getattr(kokoro.voices, "files", [])]  # an .npz archive
        self._kokoro, self._spec, self._model_path = kokoro, spec, model
        self._threads = threads
        self._voices = [voice_info(name) for name in sorted(names)]

    def voices(self) -> list[Voice]:
        return list(self._voices)

    def thread_count(self) -> int:
        """The onnxruntime intra-op threads the session runs with (0 before a load)."""
        return self._threads

    def synthesize(
        self,
        text: str,
        voice: str,
        options: SynthesisOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[SynthesisEvent]:
        kokoro = self._kokoro
        if kokoro is None:
            raise BackendError("No text-to-speech model is loaded.", title="No model")
        pieces = pieces_to_say(text)
        known = {v.id: v for v in self._voices}
        if voice not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise UnknownVoice(f"This model has no voice {voice!r}. Its voices: {listed}.")
        if not MIN_SPEED <= options.speed <= MAX_SPEED:
            raise UnsupportedOption(
                f"Speed {options.speed:g} is out of range: Kokoro speaks at "
                f"{MIN_SPEED:g} to {MAX_SPEED:g} times its natural pace."
            )
        language = options.language or known[voice].language
        if language == "unknown":
            language = "en-us"
        check_voice_language(text, language, voice)
        started = time.perf_counter()
        yield SynthesisStarted(voice=voice, sample_rate=24_000, pieces=len(pieces))
        made, audio_s, reason = 0, 0.0, "done"
        for index, piece in enumerate(pieces):
            if cancel is not None and cancel.is_set():
                reason = "cancelled"
                break
            try:
                samples, rate = kokoro.create(
                    piece, voice=voice, speed=options.speed, lang=language
                )
            except Exception as exc:  # phonemizer, onnxruntime: their own types
                raise GenerationError(
                    f"Kokoro could not read {piece[:40]!r} ({type(exc).__name__}: {exc}). "
                    f"Try another voice, or check that {language} is a language it speaks."
                ) from exc
            chunk = AudioChunk.from_samples(index, piece, samples, int(rate))
            made, audio_s = made + 1, audio_s + chunk.duration_s
            yield chunk
        yield SynthesisFinished(
            reason=reason,  # type: ignore[arg-type]
            chunks=made,
            audio_s=audio_s,
            elapsed_s=time.perf_counter() - started,
        )

    def unload(self) -> None:
        if self._kokoro is None:
            return
        self._kokoro, self._spec, self._model_path, self._voices = None, None, None, []
        gc.collect()

    def memory_footprint(self) -> MemoryFootprint:
        model = self._model_path
        return MemoryFootprint(ram_bytes=model.stat().st_size if model and model.is_file() else 0)
