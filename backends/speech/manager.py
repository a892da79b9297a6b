"""The loaded speech model, shared by the Speech screen and push-to-talk.

Loads lazily: the first transcription loads the model the settings name (or the first one
found), so starting the app costs nothing. Safe to call from worker threads; a switch
waits for a running transcription, which holds the engine while it runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from backends.base import ModelSpec, ProgressCallback
from backends.errors import BackendError, ModelNotFound
from backends.registry import create_speech_engine
from backends.speech.catalog import is_ct2_whisper_dir, is_speech_spec, speech_spec
from backends.speech.microphone import Recorder
from backends.speech.protocol import AudioInput, SpeechEngine, SpeechEvent, TranscribeOptions

if TYPE_CHECKING:
    from backends.settings import Settings

log = logging.getLogger(__name__)


class SpeechManager:
    def __init__(
        self,
        settings: Settings,
        engine_factory: Callable[[str], SpeechEngine] = create_speech_engine,
        discover: Callable[[], list[ModelSpec]] | None = None,
        sounddevice: ModuleType | None = None,
    ) -> None:
        """`sounddevice` replaces the real module for recordings (tests pass a fake)."""
        self._settings = settings
        self._sounddevice = sounddevice
        self._factory = engine_factory
        self._discover = discover or self._discover_local
        self._lock = threading.Lock()  # held while loading or transcribing
        self._engine: SpeechEngine | None = None
        self._spec: ModelSpec | None = None

    @property
    def spec(self) -> ModelSpec | None:
        return self._spec

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

    def available(self) -> list[ModelSpec]:
        """Every speech model found locally (HF cache and the user's model folders)."""
        return [s for s in self._discover() if is_speech_spec(s)]

    def _discover_local(self) -> list[ModelSpec]:
        from backends.models.catalog import discover_models

        return discover_models(self._settings)

    def default_spec(self) -> ModelSpec:
        """The model the settings name, else the first one found; ModelNotFound if none."""
        wanted = self._settings.speech.model
        if wanted:
            from backends.models.catalog import remote_model_spec

            remote = remote_model_spec(wanted, self._settings)
            if remote is not None:  # "openai_stt:<server>/<model>": a server's Whisper
                return remote
            folder = Path(wanted).expanduser()
            if folder.is_dir() and is_ct2_whisper_dir(folder):
                return speech_spec(folder)
        found = self.available()
        for spec in found:
            if wanted in (spec.key, spec.repo_id, spec.name):
                return spec
        if wanted:
            raise ModelNotFound(
                f"The speech model {wanted!r} from the settings is not here. Download it in "
                "the Hub screen (F3, task automatic-speech-recognition) or fix speech.model."
            )
        if not found:
            raise ModelNotFound(
                "No speech model found. Download a faster-whisper model in the Hub screen "
                "(F3, task automatic-speech-recognition; e.g. Systran/faster-whisper-base), "
                "or add its folder to model_dirs."
            )
        return found[0]

    def load(
        self,
        spec: ModelSpec,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Load `spec` (a no-op when it is already loaded); keeps the old one on failure."""
        with self._lock:
            if self._spec is not None and self._spec.key == spec.key:
                return
            engine = self._factory(spec.engine)
            try:
                engine.load(
                    spec, self._settings.speech.load_options(), progress=progress, cancel=cancel
                )
            except BaseException:
                _quietly_unload(engine)
                raise
            previous, self._engine, self._spec = self._engine, engine, spec
        if previous is not None:
            _quietly_unload(previous)

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

    def unload(self) -> None:
        with self._lock:
            engine, self._engine, self._spec = self._engine, None, None
        if engine is not None:
            _quietly_unload(engine)


def _quietly_unload(engine: SpeechEngine) -> None:
    try:
        engine.unload()
    except Exception:
        log.exception("unloading the speech engine failed")
