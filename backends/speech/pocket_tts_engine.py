"""Pocket TTS (Kyutai, `pocket-tts`): 100M parameters on torch on the CPU, streaming.

The streaming engine: pocket-tts makes speech in frames of 80 ms and decodes them in a
second thread, so its first chunk comes ~200 ms after a sentence starts (Kyutai's figure)
instead of after the whole sentence. Each sentence (`split_for_speech`) is streamed on its
own; every chunk pocket-tts yields becomes an AudioChunk carrying its sentence's index and
text, so progress stays per sentence. Cancel is pocket-tts's own `stop` event, checked
between frames: a cancel lands within one chunk.

Voices: the built-in ones (alba, marius, ...) whose states are in the HF cache, states or
audio files in a model folder's `voices/`, and any audio file path, cloned from a short
recording when the model has the voice-cloning weights. Files are found by
`pocket_tts_model.locate`, which never downloads.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
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
    UnsupportedModel,
    UnsupportedOption,
)
from backends.speech.pocket_tts_model import AUDIO_SUFFIXES, REPO_HINT, locate
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

MAX_VOICE_STATES = 4  # a voice state is a few MB of KV cache; keep the recent ones


class PocketTtsEngine:
    name: ClassVar[str] = "pocket_tts"
    capabilities: ClassVar[EngineCapabilities] = EngineCapabilities(streaming=True, cancel=True)

    def __init__(self) -> None:
        self._model: Any = None
        self._voices: dict[str, Path] = {}
        self._states: dict[str, Any] = {}
        self._language = "unknown"
        self._cloning = False
        self._weights: Path | None = None
        self._scratch: Path | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def sample_rate(self) -> int:
        return int(self._model.sample_rate) if self._model is not None else 0

    def thread_count(self) -> int:
        """torch intra-op threads; pocket-tts sets 1 and runs its decoder in a second thread."""
        if self._model is None:
            return 0
        import torch

        return int(torch.get_num_threads())

    def load(
        self,
        spec: ModelSpec,
        options: TtsLoadOptions | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        try:
            import pocket_tts  # noqa: F401  (imports torch; pocket-tts sets 1 thread)
        except ImportError:
            from backends.registry import missing_runtime

            raise missing_runtime(self.name, "pocket-tts") from None
        if progress is not None:
            progress(LoadProgress(None, f"Loading {spec.name}…"))
        self.unload()
        scratch = Path(tempfile.mkdtemp(prefix="pocket-tts-"))
        try:
            files = locate(Path(spec.path or spec.name), scratch)
            from pocket_tts import TTSModel

            model = TTSModel.load_model(config=files.config_path)
        except BackendError:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        except Exception as exc:  # pydantic, safetensors, torch: their own types
            shutil.rmtree(scratch, ignore_errors=True)
            raise UnsupportedModel(
                f"pocket-tts could not load {spec.name} ({type(exc).__name__}: {exc}). "
                f"Check that it is a Pocket TTS model. {REPO_HINT}"
            ) from exc
        if options is not None and options.cpu_threads:
            import torch

            torch.set_num_threads(options.cpu_threads)
        if cancel is not None and cancel.is_set():
            del model
            shutil.rmtree(scratch, ignore_errors=True)
            gc.collect()
            raise LoadCancelled(f"Loading {spec.name} was cancelled.")
        model.has_voice_cloning = files.voice_cloning
        self._model, self._voices, self._language = model, files.voices, files.language
        self._cloning, self._scratch = files.voice_cloning, scratch
        self._weights = _weights_file(files.config_path)

    def voices(self) -> list[Voice]:
        return [Voice(name, self._language) for name in sorted(self._voices)]

    def _voice_state(self, voice: str) -> Any:
        state = self._states.get(voice)
        if state is not None:
            return state
        source = self._voices.get(voice)
        if source is None:
            path = Path(voice).expanduser()
            if path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
                listed = ", ".join(sorted(self._voices)) or "none"
                raise UnknownVoice(
                    f"This model has no voice {voice!r}. Its voices: {listed}; or give the "
                    "path of a short, clean WAV recording to clone."
                )
            if not self._cloning:
                raise UnsupportedOption(
                    "This Pocket TTS model cannot clone a voice: only the weights without "
                    "voice cloning are here. Pick a built-in voice, or download "
                    "kyutai/pocket-tts (gated: accept its terms on the Hub first).",
                    title="No voice cloning",
                )
            source = path
        try:
            state = self._model.get_state_for_audio_prompt(source, truncate=True)
        except Exception as exc:  # soundfile, torch, safetensors: their own types
            raise GenerationError(
                f"Pocket TTS could not read the voice {source.name} ({type(exc).__name__}: "
                f"{exc}). A voice is a .safetensors state or a mono WAV of a few seconds."
            ) from exc
        if len(self._states) >= MAX_VOICE_STATES:
            self._states.pop(next(iter(self._states)))
        self._states[voice] = state
        return state

    def synthesize(
        self,
        text: str,
        voice: str,
        options: SynthesisOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[SynthesisEvent]:
        model = self._model
        if model is None:
            raise BackendError("No text-to-speech model is loaded.", title="No model")
        pieces = pieces_to_say(text)
        if options.speed != 1.0:
            raise UnsupportedOption(
                f"Pocket TTS speaks at its own pace and cannot change speed "
                f"({options.speed:g} asked). Set the speed to 1.0, or pick a Kokoro voice."
            )
        check_voice_language(text, options.language or self._language, voice)
        state = self._voice_state(voice)
        cancel = cancel if cancel is not None else threading.Event()
        rate = self.sample_rate
        started = time.perf_counter()
        yield SynthesisStarted(voice=voice, sample_rate=rate, pieces=len(pieces))
        spoken, audio_s = 0, 0.0
        for index, piece in enumerate(pieces):
            if cancel.is_set():
                break
            stream = model.generate_audio_stream(state, piece, stop=cancel)
            try:
                for frames in stream:
                    if cancel.is_set():  # frames decoded after the stop: not wanted
                        break
                    chunk = AudioChunk.from_samples(index, piece, frames.numpy(), rate)
                    audio_s += chunk.duration_s
                    yield chunk
            except Exception as exc:  # torch: its own types
                raise GenerationError(
                    f"Pocket TTS could not read {piece[:40]!r} ({type(exc).__name__}: {exc})."
                ) from exc
            finally:
                stream.close()
            if not cancel.is_set():
                spoken += 1
        yield SynthesisFinished(
            reason="cancelled" if cancel.is_set() else "done",
            chunks=spoken,
            audio_s=audio_s,
            elapsed_s=time.perf_counter() - started,
        )

    def unload(self) -> None:
        if self._model is None:
            return
        self._model, self._states, self._voices, self._weights = None, {}, {}, None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        gc.collect()

    def memory_footprint(self) -> MemoryFootprint:
        weights = self._weights
        return MemoryFootprint(ram_bytes=weights.stat().st_size if weights else 0)


def _weights_file(config: Path) -> Path | None:
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    path = data.get("weights_path") or data.get("flow_lm", {}).get("weights_path")
    return Path(path) if path and Path(path).is_file() else None
