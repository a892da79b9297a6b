"""Audio for the audio pipelines: a WAV file as mono float32 samples at the model's rate.

The pipelines decode a file path with ffmpeg, which may not be installed; a WAV needs
only the standard library. Other formats go through PyAV when it is installed (it comes
with faster-whisper), else the message says to convert to WAV.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

from backends.tasks.task_inputs import WrongInput


def read_audio(path: Path, rate: int) -> Any:
    if not path.is_file():
        raise WrongInput(f"No file at {path}.", title="No such file")
    if path.suffix.lower() == ".wav":
        samples, source_rate = _read_wav(path)
    else:
        samples, source_rate = _read_with_av(path, rate)
    return _resample(samples, source_rate, rate)


def _read_wav(path: Path) -> tuple[Any, int]:
    import numpy as np

    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, OSError) as error:
        raise WrongInput(f"{path.name} is not a WAV file this app can read ({error}).") from None
    if width == 1:
        samples = (np.frombuffer(frames, np.uint8).astype(np.float32) - 128) / 128
    elif width == 2:
        samples = np.frombuffer(frames, "<i2").astype(np.float32) / 32768
    elif width == 4:
        samples = np.frombuffer(frames, "<i4").astype(np.float32) / 2147483648
    else:
        raise WrongInput(f"{path.name} has {width * 8}-bit samples; save it as 16-bit WAV.")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def _read_with_av(path: Path, rate: int) -> tuple[Any, int]:
    try:
        from faster_whisper.audio import decode_audio
    except ImportError:
        raise WrongInput(
            f"{path.name} is not a WAV file, and no decoder for it is installed. Convert it "
            "to WAV (e.g. ffmpeg -i in.mp3 out.wav) or install the speech extra.",
        ) from None
    try:
        return decode_audio(str(path), sampling_rate=rate), rate
    except Exception as error:
        raise WrongInput(f"{path.name} could not be decoded as audio ({error}).") from None


def _resample(samples: Any, source: int, target: int) -> Any:
    import numpy as np

    if source == target or len(samples) == 0:
        return samples.astype(np.float32)
    count = int(round(len(samples) * target / source))
    positions = np.linspace(0, len(samples) - 1, count)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
