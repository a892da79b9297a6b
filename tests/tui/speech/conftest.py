"""The app with the tiny Whisper as its only speech model, for the Speech screen tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.models.manager import ModelManager
from backends.settings import load_settings
from backends.speech.manager import SpeechManager
from backends.store.conversations import ConversationStore
from tests.fixtures.fake_sounddevice import FakeSoundDevice
from tests.tui.conftest import QuietGauge
from tui.app import LocalAIApp


@pytest.fixture
def speech_app(tmp_path: Path, tiny_whisper_spec: ModelSpec) -> Callable[..., LocalAIApp]:
    """The app with the tiny Whisper as the only speech model and a given fake microphone."""

    def build(sounddevice: FakeSoundDevice | None = None) -> LocalAIApp:
        # F8 here dictates into the prompt to edit (the voice loop's send is tested apart).
        settings = load_settings(
            speech={"language": "en", "beam_size": 1}, tts={"voice_loop_send": "edit"}
        )
        speech = SpeechManager(
            settings,
            discover=lambda: [tiny_whisper_spec],
            sounddevice=sounddevice or FakeSoundDevice(devices=[]),  # type: ignore[arg-type]
        )
        return LocalAIApp(
            settings,
            store=ConversationStore(tmp_path / "data" / "conversations.sqlite3"),
            manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
            gauge=QuietGauge(),
            speech=speech,
        )

    return build
