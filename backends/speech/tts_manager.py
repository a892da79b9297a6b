"""The loaded text-to-speech model and the speaker, shared by the chat and the Speech screen.

Loads lazily: the first `speak` loads the first Kokoro model found, so starting the app costs
nothing. `speak` makes the audio in one thread and plays it in the caller's, through a small
queue, so sentence two is being made while sentence one plays and the first sound comes as
soon as the first sentence is made. One speech at a time; cancel stops both sides.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from backends.base import ModelSpec, ProgressCallback
from backends.errors import BackendError, ModelNotFound
from backends.registry import create_tts_engine
from backends.speech.model_slot import ModelSlot
from backends.speech.playback import PlaybackResult, SpeechPlayer
from backends.speech.synthesis import (
    AudioChunk,
    SpeechSynthesizer,
    SynthesisFinished,
    SynthesisOptions,
    TtsLoadOptions,
    Voice,
)
from backends.speech.tts_catalog import KOKORO_HINT, is_tts_spec, tts_folder_spec

if TYPE_CHECKING:
    from backends.settings import Settings

# Kokoro's best English, then Pocket TTS's default.
PREFERRED_VOICES = ("af_heart", "af_bella", "af_sarah", "am_michael", "alba")


@dataclass(frozen=True)
class Spoken:
    """What one `speak` did: the playback, and the synthesis's own figures."""

    playback: PlaybackResult
    synthesis: SynthesisFinished | None


class TtsManager(ModelSlot[SpeechSynthesizer]):
    kind = "text-to-speech"

    def __init__(
        self,
        settings: Settings,
        engine_factory: Callable[[str], SpeechSynthesizer] = create_tts_engine,
        discover: Callable[[], list[ModelSpec]] | None = None,
        sounddevice: ModuleType | None = None,
        output_dir: Path | None = None,
    ) -> None:
        """`sounddevice` replaces the real module (tests pass a fake); `output_dir` is where
        speech goes as WAV files when there is no output device (the data dir by default)."""
        super().__init__(settings, engine_factory, discover)
        if output_dir is None:
            output_dir = settings.tts.resolved_output_dir()
        self.player = SpeechPlayer(output_dir, sounddevice)

    @property
    def speaking(self) -> bool:
        """Speaking (or loading the voice to speak)."""
        return self._lock.locked()

    def label(self) -> str | None:
        return self._spec.name if self._spec is not None else None

    def _is_mine(self, spec: ModelSpec) -> bool:
        return is_tts_spec(spec)

    def _folder_spec(self, folder: Path) -> ModelSpec | None:
        return tts_folder_spec(folder)

    def _load_options(self) -> TtsLoadOptions:
        return TtsLoadOptions()

    def _missing(self, wanted: str | None) -> ModelNotFound:
        if wanted:
            return ModelNotFound(
                f"The text-to-speech model {wanted!r} from the settings (tts.model) is not "
                f"here. {KOKORO_HINT}"
            )
        return ModelNotFound(f"No text-to-speech model found. {KOKORO_HINT}")

    def default_spec(self) -> ModelSpec:
        """The model `tts.model` names (a server's, a folder, a key, repo id or name), else
        the first one found; ModelNotFound saying what to download when there is none."""
        return self._pick_spec(self._settings.tts.model)

    def default_options(self) -> SynthesisOptions:
        return SynthesisOptions(speed=self._settings.tts.speed)

    def voices(self) -> list[Voice]:
        engine = self._engine
        return engine.voices() if engine is not None else []

    def default_voice(self) -> str:
        """`tts.voice` when the model has it (or it names a recording to clone), else the
        model's best English voice."""
        chosen = self._settings.tts.voice
        if chosen and Path(chosen).expanduser().is_file():
            return chosen  # a voice to clone (Pocket TTS); other engines say they cannot
        ids = [v.id for v in self.voices()]
        for wanted in (self._settings.tts.voice, *PREFERRED_VOICES):
            if wanted in ids:
                return wanted
        english = [v for v in self.voices() if v.language.startswith("en")]
        return (english or self.voices())[0].id if ids else ""

    def speak(
        self,
        text: str,
        *,
        voice: str | None = None,
        options: SynthesisOptions | None = None,
        cancel: threading.Event | None = None,
        on_chunk: Callable[[AudioChunk], None] | None = None,
        progress: ProgressCallback | None = None,
    ) -> Spoken:
        """Say `text` on the speakers (or into a WAV file); returns when done or cancelled."""
        cancel = cancel if cancel is not None else threading.Event()
        with self._lock:
            if self._engine is None:
                self._load_locked(self.default_spec(), progress, cancel)
            engine = self._engine
            if engine is None:
                raise BackendError("No text-to-speech model is loaded.", title="No model")
            events: queue.Queue[object] = queue.Queue(maxsize=4)
            producer = threading.Thread(
                target=_produce,
                args=(
                    engine,
                    text,
                    voice or self.default_voice(),
                    options or self.default_options(),
                    cancel,
                    events,
                ),
                name="tts-synthesis",
                daemon=True,
            )
            producer.start()
            finished: list[SynthesisFinished] = []
            try:
                playback = self.player.play(_chunks(events, finished), cancel, on_chunk)
            finally:
                if producer.is_alive():  # playing stopped early (Esc, an error): stop making
                    cancel.set()
                    while producer.is_alive():  # it may wait on a full queue: drain it
                        try:
                            events.get(timeout=0.05)
                        except queue.Empty:
                            pass
                producer.join()
            return Spoken(playback, finished[0] if finished else None)

    def save(
        self,
        text: str,
        path: Path,
        *,
        voice: str | None = None,
        options: SynthesisOptions | None = None,
        cancel: threading.Event | None = None,
        on_chunk: Callable[[AudioChunk], None] | None = None,
    ) -> tuple[Path, SynthesisFinished | None]:
        """Say `text` into a file at `path` instead of the speakers (.wav; .ogg or .flac
        where soundfile can write them)."""
        from backends.speech.playback import write_audio

        cancel = cancel if cancel is not None else threading.Event()
        finished: list[SynthesisFinished] = []
        with self._lock:
            if self._engine is None:
                self._load_locked(self.default_spec(), None, cancel)
            engine = self._engine
            if engine is None:
                raise BackendError("No text-to-speech model is loaded.", title="No model")

            def chunks() -> Iterator[AudioChunk]:
                events = engine.synthesize(
                    text, voice or self.default_voice(), options or self.default_options(), cancel
                )
                for event in events:
                    if isinstance(event, AudioChunk):
                        if on_chunk is not None:
                            on_chunk(event)
                        yield event
                    elif isinstance(event, SynthesisFinished):
                        finished.append(event)

            written, _ = write_audio(path, chunks())
        return written, finished[0] if finished else None


_END = object()


def _produce(
    engine: SpeechSynthesizer,
    text: str,
    voice: str,
    options: SynthesisOptions | None,
    cancel: threading.Event,
    events: queue.Queue[object],
) -> None:
    try:
        for event in engine.synthesize(text, voice, options or SynthesisOptions(), cancel):
            events.put(event)
    except BaseException as exc:  # handed to the playing side, which raises it
        events.put(exc)
    events.put(_END)


def _chunks(events: queue.Queue[object], finished: list[SynthesisFinished]) -> Iterator[AudioChunk]:
    while True:
        event = events.get()
        if event is _END:
            return
        if isinstance(event, BaseException):
            raise event
        if isinstance(event, AudioChunk):
            yield event
        elif isinstance(event, SynthesisFinished):
            finished.append(event)
