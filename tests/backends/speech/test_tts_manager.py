"""The TTS manager: finds Kokoro folders, loads lazily, plays while it makes the next sentence,
stops on cancel, and says what to download when there is no model."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from backends.errors import ModelNotFound
from backends.models.catalog import discover_models
from backends.settings import load_settings
from backends.speech.synthesis import split_for_speech
from backends.speech.tts_manager import TtsManager
from tests.fixtures.fake_sounddevice import SPEAKERS, FakeSoundDevice

TEXT = "One sentence here. Another sentence there! And a last one?"


@pytest.fixture
def models(tmp_path: Path, tiny_kokoro_dir: Path) -> Path:
    folder = tmp_path / "models"
    shutil.copytree(tiny_kokoro_dir, folder / "my-kokoro")
    return folder


def manager(models: Path, device: FakeSoundDevice, tmp_path: Path) -> TtsManager:
    from backends.registry import create_tts_engine

    settings = load_settings(model_dirs=[models])
    return TtsManager(
        settings,
        engine_factory=lambda name: create_tts_engine(name, hosted=False),
        sounddevice=device,  # type: ignore[arg-type]
        output_dir=tmp_path / "spoken",
    )


def test_kokoro_folders_are_discovered_as_tts_models(models: Path) -> None:
    found = [s for s in discover_models(load_settings(model_dirs=[models])) if s.engine == "kokoro"]
    assert [s.name for s in found] == ["my-kokoro"]


def test_speak_plays_every_sentence_in_order(models: Path, tmp_path: Path) -> None:
    device = FakeSoundDevice(devices=[SPEAKERS])
    tts = manager(models, device, tmp_path)
    heard: list[str] = []
    spoken = tts.speak(TEXT, on_chunk=lambda c: heard.append(c.text))
    assert heard == split_for_speech(TEXT)
    assert tts.label() == "my-kokoro" and tts.default_voice() == "af_test"
    (stream,) = device.outputs
    assert stream.samples.size == round(spoken.playback.played_s * 24_000)
    assert spoken.synthesis is not None and spoken.synthesis.chunks == 3
    assert spoken.synthesis.audio_s == pytest.approx(spoken.playback.played_s)
    tts.unload()


def test_cancel_stops_playing_and_making(models: Path, tmp_path: Path) -> None:
    device = FakeSoundDevice(devices=[SPEAKERS])
    tts = manager(models, device, tmp_path)
    cancel = threading.Event()
    spoken = tts.speak(TEXT, cancel=cancel, on_chunk=lambda c: cancel.set())
    assert spoken.playback.cancelled and spoken.playback.played_s == 0
    assert not np.any(device.outputs[0].samples) and device.outputs[0].aborted
    tts.unload()


def test_no_model_says_what_to_get(tmp_path: Path) -> None:
    tts = TtsManager(load_settings(model_dirs=[tmp_path]), discover=lambda: [])
    with pytest.raises(ModelNotFound) as raised:
        tts.speak("Hello.")
    message = raised.value.message
    assert "kokoro-v1.0.onnx" in message and "voices-v1.0.bin" in message
    assert "github.com/thewh1teagle/kokoro-onnx/releases" in message


def test_tts_settings_pick_model_voice_speed_and_fallback_folder(
    models: Path, tmp_path: Path
) -> None:
    """[tts] model, voice, speed and output_dir reach what is spoken and where it goes."""
    from backends.registry import create_tts_engine

    shutil.copytree(models / "my-kokoro", models / "other-kokoro")
    settings = load_settings(
        model_dirs=[models],
        tts={
            "model": "other-kokoro",
            "voice": "bm_test",
            "speed": "1.5",
            "output_dir": str(tmp_path / "fallback"),
        },
    )
    tts = TtsManager(
        settings,
        engine_factory=lambda name: create_tts_engine(name, hosted=False),
        sounddevice=FakeSoundDevice(devices=[]),  # type: ignore[arg-type]
    )
    spoken = tts.speak("Hello there.")
    assert tts.label() == "other-kokoro" and tts.default_voice() == "bm_test"
    assert tts.default_options().speed == 1.5
    assert spoken.playback.path is not None
    assert spoken.playback.path.parent == (tmp_path / "fallback").absolute()
    tts.unload()


def test_a_tts_model_the_settings_name_but_is_not_here_is_said(models: Path) -> None:
    tts = TtsManager(load_settings(model_dirs=[models], tts={"model": "nope-kokoro"}))
    with pytest.raises(ModelNotFound, match="'nope-kokoro' from the settings"):
        tts.speak("Hello.")


def test_a_tts_speed_out_of_range_is_a_settings_error() -> None:
    from backends.settings import SettingsError

    with pytest.raises(SettingsError, match="tts.speed"):
        load_settings(tts={"speed": 3})
