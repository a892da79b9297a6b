"""The loaded speech model, shared by the Speech screen and push-to-talk.

Loads lazily: the first transcription loads the model the settings name (or the first one
found), so starting the app costs nothing. Safe to call from worker threads; a switch
waits for a running transcription, which holds the engine while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from backends.base import ModelSpec, ProgressCallback
from backends.errors import BackendError, ModelNotFound
from backends.registry import create_speech_engine
from backends.speech.catalog import is_ct2_whisper_dir, is_speech_spec, speech_spec
from backends.speech.microphone import Recorder
from backends.speech.model_slot import ModelSlot
from backends.speech.protocol import AudioInput, SpeechEngine, SpeechEvent, TranscribeOptions

if TYPE_CHECKING:
    from backends.settings import Settings


class SpeechManager(ModelSlot[SpeechEngine]):
    kind = "speech"

    def __init__(
        self,
        settings: Settings,
        engine_factory: Callable[[str], SpeechEngine] = create_speech_engine,
        discover: Callable[[], list[ModelSpec]] | None = None,
        sounddevice: ModuleType | None = None,
    ) -> None:
        """`sounddevice` replaces the real module for recordings (tests pass a fake)."""
        super().__init__(settings, engine_factory, discover)
        self._sounddevice = sounddevice

    def label(self) -> str | None:
        """ "Systran/faster-whisper-base · cpu int8", or None when nothing is loaded."""
        spec, engine = self._spec, self._engine
        if spec is None or engine is None:
            return None
        runtime = getattr(engine, "runtime", "")
        return f"{spec.name} · {runtime}" if runtime else spec.name

    def recorder(self) -> Recorder:
        """A new microphone recording (not started)."""
        return Recorder(self._sounddevice)

    def _is_mine(self, spec: ModelSpec) -> bool:
        return is_speech_spec(spec)

    def _folder_spec(self, folder: Path) -> ModelSpec | None:
        return speech_spec(folder) if is_ct2_whisper_dir(folder) else None

    def _load_options(self) -> Any:
        return self._settings.speech.load_options()

    def _missing(self, wanted: str | None) -> ModelNotFound:
        if wanted:
            return ModelNotFound(
                f"The speech model {wanted!r} from the settings is not here. Download it in "
                "the Hub screen (F3, task automatic-speech-recognition) or fix speech.model."
            )
        return ModelNotFound(
            "No speech model found. Download a faster-whisper model in the Hub screen "
            "(F3, task automatic-speech-recognition; e.g. Systran/faster-whisper-base), "
            "or add its folder to model_dirs."
        )

    def default_spec(self) -> ModelSpec:
        """The model the settings name, else the first one found; ModelNotFound if none."""
        return self._pick_spec(self._settings.speech.model)

    def transcribe(
        self,
        audio: AudioInput,
        options: TranscribeOptions | None = None,
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[SpeechEvent]:
        """Load the default model if none is loaded, then stream the transcription."""
        if self._engine is None:
            self.load(self.default_spec(), progress=progress, cancel=cancel)
        options = options or self._settings.speech.transcribe_options()
        with self._lock:
            engine = self._engine
            if engine is None:
                raise BackendError("No speech model is loaded.", title="No model")
            yield from engine.transcribe(audio, options, cancel=cancel)
