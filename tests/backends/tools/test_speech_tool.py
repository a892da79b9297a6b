"""transcribe_audio: an audio file inside the allowed folders, through the speech manager."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from backends.base import ModelSpec, ToolCall
from backends.settings import load_settings
from backends.speech.manager import SpeechManager
from backends.tools.builtin import AllowedFolders
from backends.tools.speech_tool import transcribe_tool
from backends.tools.toolbox import Toolbox


def test_transcribe_audio_in_an_allowed_folder(
    tiny_whisper_spec: ModelSpec, spoken_wav: Path, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    shutil.copy(spoken_wav, allowed / "hello.wav")
    (allowed / "notes.txt").write_text("not audio", encoding="utf-8")
    speech = SpeechManager(load_settings(), discover=lambda: [tiny_whisper_spec])
    box = Toolbox.with_builtins([transcribe_tool(speech, AllowedFolders([allowed]))])

    def run(path: Path) -> tuple[str, bool]:
        result = box.run(ToolCall("c", "transcribe_audio", json.dumps({"path": str(path)})))
        return result.text, result.is_error

    text, failed = run(allowed / "hello.wav")
    assert not failed and text.startswith("[") and " s] " in text  # random weights: any words
    text, failed = run(spoken_wav)  # the same file outside the folder
    assert failed and "outside the allowed folders" in text
    text, failed = run(allowed / "notes.txt")
    assert failed and "not an audio file" in text
    speech.unload()


pytestmark = pytest.mark.slow
