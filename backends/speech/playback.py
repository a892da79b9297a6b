"""Playing synthesized speech on this machine's speakers, or into a WAV file when it has none.

sounddevice (PortAudio) plays the chunks as they arrive, written in blocks of ~0.1 s so a
stop lands within a block. Where there is no output device (over SSH the speakers are on the
user's machine; a container has none; PortAudio is not installed) the audio goes to a WAV
file instead: the first time, `PlaybackResult.notice` says why and where (once per player);
every result names its file.
"""

from __future__ import annotations

import os
import threading
import time
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from backends.errors import BackendError
from backends.speech.microphone import remote_session
from backends.speech.synthesis import AudioChunk

if TYPE_CHECKING:
    import numpy as np

BLOCK_S = 0.1  # how much audio one write hands to PortAudio: the stop's granularity


@dataclass(frozen=True)
class PlaybackResult:
    played_s: float  # seconds of audio played or written
    cancelled: bool
    path: Path | None = None  # the WAV written instead of playing, if any
    notice: str | None = None  # why there was no sound, the first time only


def output_problem(sounddevice: ModuleType | None = None) -> str | None:
    """Why speech cannot be played here, in a sentence; None when an output device exists."""
    sd: Any = sounddevice
    if sd is None:
        try:
            import sounddevice as real_sd
        except ImportError:
            return "Playing speech needs the sounddevice package (pip install 'localai-tui[tts]')."
        except OSError:  # sounddevice raises OSError when libportaudio is missing
            return (
                "Playing speech needs the PortAudio library, which is not installed (Debian/"
                "Ubuntu: apt install libportaudio2; macOS: brew install portaudio)."
            )
        sd = real_sd
    try:
        device = sd.query_devices(kind="output")
    except Exception:  # PortAudioError: no default output device
        device = None
    if device is not None and device.get("max_output_channels", 0) > 0:
        return None
    if remote_session():
        return (
            "This host has no sound output: you are connected over SSH, and your speakers are "
            "on your own machine."
        )
    return "No sound output device was found on this machine."


SOUNDFILE_FORMATS = {
    ".ogg": ("OGG", "VORBIS"),
    ".flac": ("FLAC", "PCM_16"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),  # libsndfile 1.1 and later (soundfile 0.12 wheels on)
}


def writable_suffixes() -> tuple[str, ...]:
    """.wav always; .ogg, .flac and .mp3 where soundfile and its libsndfile can write them."""
    try:
        import soundfile
    except (ImportError, OSError):  # OSError: the package without libsndfile
        return (".wav",)
    formats = soundfile.available_formats()
    return (".wav",) + tuple(
        suffix
        for suffix, (kind, subtype) in SOUNDFILE_FORMATS.items()
        if kind in formats and subtype in soundfile.available_subtypes(kind)
    )


def write_audio(path: Path, chunks: Iterable[AudioChunk]) -> tuple[Path, float]:
    """Write the chunks as one mono file in the format its suffix names (.wav; .ogg, .flac,
    .mp3 through soundfile where installed); returns the absolute path and the seconds."""
    target = path.expanduser().absolute()
    suffix = target.suffix.lower()
    if suffix == ".wav":
        return write_wav(target, chunks)
    usable = writable_suffixes()
    if suffix not in usable:
        extra = (
            f" ({suffix} needs the soundfile package: pip install soundfile, which comes "
            "with pip install 'localai-tui[tts]')"
            if suffix in SOUNDFILE_FORMATS
            else ""
        )
        raise BackendError(
            f"Cannot write {target.name}: this machine writes {', '.join(usable)} only{extra}. "
            "End the name with .wav.",
            title="Unknown audio format",
        )
    return _write_soundfile(target, chunks, *SOUNDFILE_FORMATS[suffix])


def _write_soundfile(
    target: Path, chunks: Iterable[AudioChunk], kind: str, subtype: str
) -> tuple[Path, float]:
    import soundfile

    seconds = 0.0
    out: Any = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for chunk in chunks:
            if out is None:
                out = soundfile.SoundFile(
                    str(target), "w", chunk.sample_rate, 1, subtype, format=kind
                )
            out.write(chunk.samples())
            seconds += chunk.duration_s
        if out is None:  # nothing said: an empty file still opens
            out = soundfile.SoundFile(str(target), "w", 24_000, 1, subtype, format=kind)
    except (OSError, RuntimeError) as exc:  # soundfile raises LibsndfileError(RuntimeError)
        raise BackendError(
            f"Could not write {target}: {exc}. Pick a folder you can write to.",
            title="Saving the audio failed",
        ) from exc
    finally:
        if out is not None:
            out.close()
    return target, seconds


def write_wav(path: Path, chunks: Iterable[AudioChunk]) -> tuple[Path, float]:
    """Write the chunks as one 16-bit mono WAV; returns the absolute path and the seconds."""
    target = path.expanduser().absolute()
    if target.suffix.lower() != ".wav":
        raise BackendError(
            f"Cannot write {target.name}: only .wav is written here. End the name with .wav.",
            title="Unknown audio format",
        )
    seconds = 0.0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(target), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            rate = 0
            for chunk in chunks:
                if not rate:
                    rate = chunk.sample_rate
                    out.setframerate(rate)
                out.writeframes(_int16(chunk.samples()))
                seconds += chunk.duration_s
            if not rate:
                out.setframerate(24_000)
    except OSError as exc:
        raise BackendError(
            f"Could not write {target}: {exc.strerror or exc}. Pick a folder you can write to.",
            title="Saving the audio failed",
        ) from exc
    return target, seconds


def _int16(samples: np.ndarray) -> bytes:
    import numpy as np

    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


class SpeechPlayer:
    """Plays chunks on the default output device; without one, writes them to a WAV file.

    `sounddevice` replaces the real module (tests pass a fake with an OutputStream).
    """

    def __init__(self, fallback_dir: Path, sounddevice: ModuleType | None = None) -> None:
        self._fallback_dir = fallback_dir
        self._sd = sounddevice
        self._told = False  # the no-device notice is given once per player
        self._resumed = threading.Event()  # clear while paused
        self._resumed.set()
        self.position_s = 0.0  # of the speech playing now (for a position line)
        self.level = 0.0  # 0..1, the loudness of the block playing (for a level meter)

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    def resume(self) -> None:
        """End a pause (a stop does: nothing is left to resume)."""
        self._resumed.set()

    def toggle_pause(self) -> bool:
        """Pause (the block playing finishes, ~0.1 s) or resume; returns whether paused."""
        if self._resumed.is_set():
            self._resumed.clear()
        else:
            self._resumed.set()
        return self.paused

    def play(
        self,
        chunks: Iterable[AudioChunk],
        cancel: threading.Event | None = None,
        on_chunk: Callable[[AudioChunk], None] | None = None,
    ) -> PlaybackResult:
        """Play (or write) the chunks as they come; returns when done or cancelled.

        `on_chunk` is called as each chunk starts playing (for a position line).
        """
        problem = output_problem(self._sd)
        if problem is not None:
            return self._to_file(chunks, cancel, on_chunk, problem)
        sd: Any = self._sd
        if sd is None:
            import sounddevice

            sd = sounddevice
        stream: Any = None
        rate, played, cancelled = 0, 0.0, False
        self.position_s, self.level = 0.0, 0.0
        try:
            for chunk in chunks:
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    break
                if stream is None or chunk.sample_rate != rate:
                    _close(stream, drain=True)
                    rate = chunk.sample_rate
                    stream = _open(sd, rate)
                if on_chunk is not None:
                    on_chunk(chunk)
                samples = chunk.samples()
                block = max(1, int(rate * BLOCK_S))
                for start in range(0, samples.size, block):
                    if not self._wait_unpaused(cancel):
                        cancelled = True
                        break
                    part = samples[start : start + block]
                    self.level = _level(part)
                    played += part.size / rate
                    self.position_s = played  # set first: write() blocks while it plays
                    _write(stream, part)
                if cancelled:
                    break
        finally:
            _close(stream, drain=not cancelled)
            self.level = 0.0
        return PlaybackResult(played, cancelled or bool(cancel and cancel.is_set()))

    def _wait_unpaused(self, cancel: threading.Event | None) -> bool:
        """Hold here while paused; False when cancelled (a cancel ends a pause too)."""
        while not self._resumed.wait(0.05):
            if cancel is not None and cancel.is_set():
                self._resumed.set()
                return False
        return not (cancel is not None and cancel.is_set())

    def _to_file(
        self,
        chunks: Iterable[AudioChunk],
        cancel: threading.Event | None,
        on_chunk: Callable[[AudioChunk], None] | None,
        problem: str,
    ) -> PlaybackResult:
        name = time.strftime("speech-%Y%m%d-%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns()}.wav"
        cancelled = False

        def until_cancelled() -> Iterable[AudioChunk]:
            nonlocal cancelled
            for chunk in chunks:
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    return
                if on_chunk is not None:
                    on_chunk(chunk)
                yield chunk

        path, seconds = write_wav(self._fallback_dir / name, until_cancelled())
        notice = None
        if not self._told:
            self._told = True
            notice = f"{problem} The speech is written to {path} instead (and to files beside it)."
        return PlaybackResult(seconds, cancelled, path, notice)


def _level(samples: np.ndarray) -> float:
    """Peak loudness of a block, 0..1 (what a level meter shows)."""
    import numpy as np

    return float(min(1.0, np.abs(samples).max())) if samples.size else 0.0


def _open(sd: Any, rate: int) -> Any:
    try:
        stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32")
        stream.start()
    except Exception as exc:  # PortAudioError: busy, unplugged, unsupported rate
        raise BackendError(
            f"The sound output could not be opened: {exc}. Close other programs using it, or "
            "save the speech to a file instead.",
            title="Sound output busy",
        ) from exc
    return stream


def _write(stream: Any, part: np.ndarray) -> None:
    try:
        stream.write(part.reshape(-1, 1))
    except Exception as exc:  # PortAudioError: the device went away mid-sentence
        raise BackendError(
            f"The sound output stopped working while speaking ({exc}). Check that the "
            "speakers or headphones are still connected, then try again.",
            title="Sound output failed",
        ) from exc


def _close(stream: Any, *, drain: bool) -> None:
    if stream is None:
        return
    try:
        if drain:
            stream.stop()  # waits for what was written to finish playing
        else:
            stream.abort()  # drops it: Esc means silence now
        stream.close()
    except Exception:  # a device unplugged mid-sentence: nothing left to do
        pass
