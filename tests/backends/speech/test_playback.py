"""Playback: the samples reach the output stream in order; Esc stops within a block; with no
output device the speech goes to a WAV file (read back with the stdlib `wave`), said once."""

from __future__ import annotations

import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from backends.errors import BackendError
from backends.speech.playback import SpeechPlayer, write_wav
from backends.speech.synthesis import AudioChunk
from tests.fixtures.fake_sounddevice import SPEAKERS, FakeSoundDevice

RATE = 24_000


def chunks() -> list[AudioChunk]:
    t = np.arange(RATE // 2) / RATE  # half a second each
    return [
        AudioChunk.from_samples(i, f"Sentence {i}.", 0.3 * np.sin(2 * np.pi * f * t), RATE)
        for i, f in enumerate((220, 330, 440))
    ]


def test_the_output_stream_receives_every_sample_in_order(tmp_path: Path) -> None:
    device = FakeSoundDevice(devices=[SPEAKERS])
    seen: list[int] = []
    result = SpeechPlayer(tmp_path, device).play(chunks(), on_chunk=lambda c: seen.append(c.index))  # type: ignore[arg-type]
    (stream,) = device.outputs
    expected = np.concatenate([c.samples() for c in chunks()])
    np.testing.assert_array_equal(stream.samples, expected)
    assert (stream.samplerate, stream.channels, stream.dtype) == (RATE, 1, "float32")
    assert stream.drained and stream.closed and not stream.aborted
    assert seen == [0, 1, 2]
    assert result.played_s == pytest.approx(1.5) and not result.cancelled
    assert result.path is None and result.notice is None
    assert not list(tmp_path.iterdir())


def test_stop_lands_within_a_block(tmp_path: Path) -> None:
    device = FakeSoundDevice(devices=[SPEAKERS])
    cancel = threading.Event()
    original = device.OutputStream

    def stream_that_stops_after_two_blocks(**kwargs):  # type: ignore[no-untyped-def]
        stream = original(**kwargs)
        stream.on_write = lambda: cancel.set() if len(stream.blocks) == 2 else None
        return stream

    device.OutputStream = stream_that_stops_after_two_blocks  # type: ignore[method-assign]
    result = SpeechPlayer(tmp_path, device).play(chunks(), cancel=cancel)  # type: ignore[arg-type]
    (stream,) = device.outputs
    assert len(stream.blocks) == 2 and stream.aborted and stream.closed
    assert result.cancelled and result.played_s == pytest.approx(0.2)


def test_no_output_device_writes_a_wav_and_says_so_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        monkeypatch.delenv(name, raising=False)
    player = SpeechPlayer(tmp_path / "spoken", FakeSoundDevice(devices=[]))  # type: ignore[arg-type]
    first = player.play(chunks())
    second = player.play(chunks()[:1])

    assert first.notice is not None and first.path is not None
    assert "No sound output device" in first.notice and str(first.path) in first.notice
    assert second.notice is None and second.path is not None and second.path != first.path
    with wave.open(str(first.path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        assert wav.getnframes() == 3 * RATE // 2
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2") / 32767
    expected = np.concatenate([c.samples() for c in chunks()])
    assert np.abs(pcm - expected).max() < 1e-3
    assert first.played_s == pytest.approx(1.5)


def test_over_ssh_the_notice_says_where_the_speakers_are(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 52100 10.0.0.1 22")
    result = SpeechPlayer(tmp_path, FakeSoundDevice(devices=[])).play(chunks())  # type: ignore[arg-type]
    assert result.notice is not None and "connected over SSH" in result.notice


def test_only_wav_is_written(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="End the name with .wav"):
        write_wav(tmp_path / "speech.mp3", chunks())
    path, seconds = write_wav(tmp_path / "speech.wav", chunks())
    assert path.is_file() and seconds == pytest.approx(1.5)
