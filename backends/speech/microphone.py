"""Recording from the microphone with sounddevice (PortAudio), for push-to-talk.

Everything that can go wrong before the first frame (no PortAudio library, no input device,
a busy device, a remote SSH session whose microphone is on the user's own machine) becomes a
MicrophoneUnavailable with a sentence the user can act on. PortAudio calls the stream
callback on its own thread; the recorder only appends frames and tracks the level there.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from backends.errors import MicrophoneUnavailable
from backends.speech.protocol import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np

FILE_HINT = "Transcribe a recorded file instead: F7 opens the Speech screen."


def remote_session(environ: Mapping[str, str] | None = None) -> bool:
    """True over SSH, where the user's microphone is on their own machine, not this host."""
    env = os.environ if environ is None else environ
    return any(env.get(name) for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"))


def load_sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing package or PortAudio library into a message."""
    try:
        import sounddevice
    except ImportError:
        raise MicrophoneUnavailable(
            "Recording needs the sounddevice package: pip install 'localai-tui[speech]'. "
            + FILE_HINT
        ) from None
    except OSError:  # sounddevice raises OSError when libportaudio is not installed
        raise MicrophoneUnavailable(
            "Recording needs the PortAudio library, which is not installed (Debian/Ubuntu: "
            "apt install libportaudio2; macOS: brew install portaudio). " + FILE_HINT
        ) from None
    return sounddevice


def default_input_device(sd: ModuleType) -> dict[str, Any]:
    """The input device PortAudio would use, or MicrophoneUnavailable saying why there is none."""
    try:
        devices = sd.query_devices()
        inputs = [d for d in devices if d.get("max_input_channels", 0) > 0]
        device = sd.query_devices(kind="input") if inputs else None
    except Exception:  # PortAudioError for "no default input device" among others
        device = None
    if device is None or device.get("max_input_channels", 0) < 1:
        raise MicrophoneUnavailable(_no_device_message())
    return dict(device)


def _no_device_message() -> str:
    if remote_session():
        return (
            "This host has no input device: you are connected over SSH, and your microphone "
            "is on your own machine, which this app cannot reach. " + FILE_HINT
        )
    return "No microphone (input device) was found on this machine. " + FILE_HINT


class Recorder:
    """One push-to-talk recording: start, watch `level` and `elapsed_s`, then stop.

    `stop()` returns mono float32 samples at SAMPLE_RATE, ready for `transcribe`.
    `sounddevice` may be passed in (tests feed a fake InputStream through it).
    """

    def __init__(self, sounddevice: ModuleType | None = None) -> None:
        self._sd = sounddevice
        self._stream: Any = None
        self._frames: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._rate = SAMPLE_RATE
        self._started = 0.0
        self._stopped: float | None = None
        self.level = 0.0  # RMS of the last block, 0..1
        self.status_note = ""  # PortAudio's overflow notices, if any

    @property
    def recording(self) -> bool:
        return self._stream is not None

    @property
    def elapsed_s(self) -> float:
        if not self._started:
            return 0.0
        end = self._stopped if self._stopped is not None else time.monotonic()
        return end - self._started

    @property
    def sample_rate(self) -> int:
        return self._rate

    def start(self) -> None:
        sd = self._sd or load_sounddevice()
        device = default_input_device(sd)
        rate = int(device.get("default_samplerate") or SAMPLE_RATE)
        self._frames, self.level, self._stopped = [], 0.0, None
        try:
            stream = sd.InputStream(
                samplerate=rate, channels=1, dtype="float32", callback=self._on_block
            )
            stream.start()
        except Exception as exc:  # PortAudioError: busy, unplugged, unsupported rate
            raise MicrophoneUnavailable(
                f"The microphone ({device.get('name', 'default input')}) could not be opened: "
                f"{exc}. Close other programs using it, or check it is plugged in. " + FILE_HINT
            ) from exc
        self._stream, self._rate, self._started = stream, rate, time.monotonic()

    def _on_block(self, block: Any, frames: int, time_info: Any, status: Any) -> None:
        import numpy as np

        mono = np.asarray(block, dtype=np.float32).reshape(-1)
        with self._lock:
            self._frames.append(mono.copy())
        self.level = float(min(1.0, np.sqrt(np.mean(mono * mono)) * 4)) if mono.size else 0.0
        if status:
            self.status_note = str(status)

    def stop(self) -> np.ndarray:
        """Stop recording; the audio so far, resampled to SAMPLE_RATE (may be empty)."""
        import numpy as np

        stream, self._stream = self._stream, None
        if stream is not None:
            self._stopped = time.monotonic()
            try:
                stream.stop()
                stream.close()
            except Exception:  # a device unplugged mid-recording: keep what arrived
                pass
        with self._lock:
            frames, self._frames = self._frames, []
        audio = np.concatenate(frames) if frames else np.zeros(0, dtype=np.float32)
        return resample(audio, self._rate, SAMPLE_RATE)

    def cancel(self) -> None:
        self.stop()


def resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Linear interpolation: enough for speech going into Whisper's 16 kHz front end."""
    import numpy as np

    if rate == target or audio.size == 0:
        return audio.astype(np.float32, copy=False)
    count = int(round(audio.size * target / rate))
    positions = np.linspace(0, audio.size - 1, num=count)
    return np.interp(positions, np.arange(audio.size), audio).astype(np.float32)
