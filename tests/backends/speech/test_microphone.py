"""Microphone: frames become 16 kHz audio; every reason there is no microphone is a message."""

from __future__ import annotations

import pytest

from backends.errors import MicrophoneUnavailable
from backends.speech.microphone import Recorder, remote_session
from tests.fixtures.fake_sounddevice import FakeSoundDevice, tone


def test_recorded_frames_come_back_resampled_to_16k() -> None:
    sd = FakeSoundDevice(frames=tone(1.5))
    recorder = Recorder(sd)  # type: ignore[arg-type]

    recorder.start()
    assert recorder.recording
    assert recorder.level > 0.5  # a 0.3-amplitude tone, meter scaled x4
    audio = recorder.stop()

    assert not recorder.recording
    assert sd.streams[0].samplerate == 48_000 and sd.streams[0].closed
    assert audio.dtype.name == "float32"
    assert audio.size == pytest.approx(1.5 * 16_000, abs=2)


def test_no_input_device_says_so_and_offers_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        monkeypatch.delenv(name, raising=False)
    recorder = Recorder(FakeSoundDevice(devices=[]))  # type: ignore[arg-type]

    with pytest.raises(MicrophoneUnavailable) as caught:
        recorder.start()

    assert "No microphone (input device) was found" in caught.value.message
    assert "F7 opens the Speech screen" in caught.value.message
    assert not recorder.recording


def test_over_ssh_the_message_says_the_microphone_is_on_your_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 52100 10.0.0.1 22")
    assert remote_session()

    with pytest.raises(MicrophoneUnavailable, match="This host has no input device"):
        Recorder(FakeSoundDevice(devices=[])).start()  # type: ignore[arg-type]


def test_busy_device_is_a_message_not_a_crash() -> None:
    with pytest.raises(MicrophoneUnavailable, match="Fake USB microphone.*could not be opened"):
        Recorder(FakeSoundDevice(busy=True)).start()  # type: ignore[arg-type]


def test_missing_portaudio_library_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_portaudio(name: str, *args: object, **kwargs: object) -> object:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    with pytest.raises(MicrophoneUnavailable, match="apt install libportaudio2"):
        Recorder().start()


def test_this_machine_without_a_sound_card_gives_the_message() -> None:
    """The real sounddevice here: PortAudio is installed, no device exists."""
    sd = pytest.importorskip("sounddevice")
    if any(d["max_input_channels"] > 0 for d in sd.query_devices()):
        pytest.skip("this machine has a microphone")
    with pytest.raises(MicrophoneUnavailable, match="input device"):
        Recorder().start()
