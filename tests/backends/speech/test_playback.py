"""Playback: the samples reach the output stream in order; Esc stops within a block; with no
output device the speech goes to a WAV file (read back with the stdlib `wave`), said once."""

from __future__ import annotations

import sys
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


def test_pause_holds_playback_until_resumed_with_position_and_level(tmp_path: Path) -> None:
    device = FakeSoundDevice(devices=[SPEAKERS])
    player = SpeechPlayer(tmp_path, device)  # type: ignore[arg-type]
    paused = threading.Event()
    seen: list[tuple[float, float]] = []

    def after_block() -> None:
        seen.append((player.position_s, player.level))
        if len(seen) == 1:
            player.toggle_pause()
            paused.set()

    device.on_write = after_block
    done: list[object] = []
    playing = threading.Thread(target=lambda: done.append(player.play(chunks())), daemon=True)
    playing.start()
    assert paused.wait(10)
    playing.join(0.3)  # paused: it must still be waiting, not finishing the other blocks
    assert playing.is_alive() and len(device.outputs[0].blocks) == 1 and player.paused
    assert seen[0][0] == pytest.approx(0.1) and seen[0][1] == pytest.approx(0.3, abs=0.01)
    assert not player.toggle_pause()  # resume
    playing.join(10)
    assert not playing.is_alive() and device.outputs[0].samples.size == int(1.5 * RATE)
    assert player.level == 0.0


def test_a_stop_ends_a_pause(tmp_path: Path) -> None:
    device = FakeSoundDevice(devices=[SPEAKERS])
    player = SpeechPlayer(tmp_path, device)  # type: ignore[arg-type]
    cancel = threading.Event()

    def after_block() -> None:
        player.toggle_pause()
        cancel.set()

    device.on_write = after_block
    result = player.play(chunks(), cancel)
    assert result.cancelled and not player.paused and len(device.outputs[0].blocks) == 1


def test_ogg_is_written_where_soundfile_can_else_the_message_says_what_to_install(
    tmp_path: Path,
) -> None:
    from backends.speech.playback import writable_suffixes, write_audio

    if ".ogg" in writable_suffixes():
        import soundfile

        for suffix in (".ogg", ".mp3"):
            if suffix not in writable_suffixes():  # an old libsndfile without MPEG
                continue
            path, seconds = write_audio(tmp_path / f"s{suffix}", chunks())
            data, rate = soundfile.read(str(path))
            assert soundfile.info(str(path)).format == suffix[1:].upper()
            assert rate == RATE and seconds == pytest.approx(1.5)
            assert data.shape[0] == pytest.approx(1.5 * RATE, abs=RATE // 10)
    else:
        with pytest.raises(BackendError, match=r"writes \.wav only.*pip install soundfile"):
            write_audio(tmp_path / "s.ogg", chunks())
    path, _ = write_audio(tmp_path / "s.wav", chunks())
    with wave.open(str(path)) as wav:
        assert wav.getnframes() == int(1.5 * RATE)


def test_without_soundfile_an_mp3_name_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backends.speech.playback import write_audio

    monkeypatch.setitem(sys.modules, "soundfile", None)  # as if it were not installed
    wanted = r"\.mp3 needs the soundfile package.*localai-tui\[tts\]"
    with pytest.raises(BackendError, match=wanted):
        write_audio(tmp_path / "s.mp3", chunks())
    assert not (tmp_path / "s.mp3").exists()
