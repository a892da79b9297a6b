"""Speech as a user drives it: the F7 screen (file -> segments -> .srt/.vtt -> chat) and
push-to-talk in the chat prompt, with a fake microphone and the tiny Whisper."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.settings import load_settings
from tests.fixtures.fake_sounddevice import FakeSoundDevice, tone
from tests.fixtures.tiny_whisper import read_wav
from tests.tui.test_chat_screen import notifications
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.prompt_input import PromptInput
from tui.speech.push_to_talk import PushToTalk
from tui.speech.segment_list import SegmentLine, SegmentList
from tui.speech.speech_screen import SpeechScreen

pytestmark = pytest.mark.slow
SRT_CUE = re.compile(r"^\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d$")
VTT_CUE = re.compile(r"^\d\d:\d\d:\d\d\.\d\d\d --> \d\d:\d\d:\d\d\.\d\d\d$")


def speech_screen(app: LocalAIApp) -> SpeechScreen:
    assert isinstance(app.screen, SpeechScreen)
    return app.screen


def status(app: LocalAIApp) -> str:
    return str(app.screen.query_one("#speech-status").render())


async def test_file_to_segments_to_srt_and_vtt_to_chat(
    speech_app: Callable[..., LocalAIApp], long_wav: Path, tmp_path: Path
) -> None:
    app = speech_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "speech screen")
        await pilot.press(*str(long_wav), "enter")
        await until(pilot, lambda: "Done:" in status(app), "transcription done", tries=6000)

        screen = speech_screen(app)
        shown = app.screen.query_one(SegmentList)
        lines = [str(line.render()) for line in shown.query(SegmentLine)]
        assert shown.segments == screen.segments and len(lines) >= 3
        starts = [line.split(" → ")[0].strip() for line in lines]
        assert starts == sorted(starts) and starts[-1] >= "00:30.0"  # "mm:ss.s" sorts as time
        # (the random model also emits control characters, which the screen never prints)
        pairs = zip(screen.segments, lines, strict=True)
        assert all(seg.text in line for seg, line in pairs if seg.text.isprintable())
        assert "cpu int8" in str(app.screen.query_one("#speech-title").render())

        export = app.screen.query_one("#speech-export")
        for suffix, cue in ((".srt", SRT_CUE), (".vtt", VTT_CUE)):
            await pilot.press("ctrl+s")
            if suffix == ".srt":  # suggested: beside the audio file
                assert export.value == str(long_wav.with_suffix(".srt"))  # type: ignore[attr-defined]
            export.value = str(tmp_path / f"talk{suffix}")  # type: ignore[attr-defined]
            await pilot.press("enter")
            target = tmp_path / f"talk{suffix}"
            await until(pilot, target.exists, suffix)
            lines = target.read_text().splitlines()
            cues = [line for line in lines if "-->" in line]
            assert len(cues) == len([s for s in screen.segments if s.text])
            assert all(cue.match(line) for line in cues)
        assert lines[0] == "WEBVTT"
        assert (tmp_path / "talk.srt").read_text().startswith("1\n00:00:")

        words = " ".join(s.text for s in screen.segments if s.text)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: not isinstance(app.screen, SpeechScreen), "back in chat")
        assert app.screen.query_one(PromptInput).text == words


async def test_a_missing_file_is_a_message(speech_app: Callable[..., LocalAIApp]) -> None:
    app = speech_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "speech screen")
        await pilot.press(*"/no/such/file.wav", "enter")
        await until(pilot, lambda: notifications(app), "a notification")
        assert "There is no file at /no/such/file.wav" in " ".join(notifications(app))
        assert isinstance(app.screen, SpeechScreen)


async def test_push_to_talk_records_and_puts_the_words_in_the_prompt(
    speech_app: Callable[..., LocalAIApp], spoken_wav: Path
) -> None:
    speech = read_wav(spoken_wav)
    blocks = [speech[i : i + 1600] for i in range(0, speech.size, 1600)]  # 16 kHz device
    blocks += tone(0.2, rate=16_000)  # ends loud (espeak ends in silence), so the meter shows
    microphone = FakeSoundDevice(
        frames=blocks,
        devices=[{"name": "mic", "max_input_channels": 1, "default_samplerate": 16000}],
    )
    app = speech_app(microphone)
    async with app.run_test(size=(120, 40)) as pilot:
        prompt = app.screen.query_one(PromptInput)
        await pilot.press(*"Please summarise:")
        await pilot.press("f8")
        await until(pilot, lambda: app.screen.query(PushToTalk), "recording bar")
        bar = str(app.screen.query_one(PushToTalk).render())
        assert "● REC 00:0" in bar and "F8 stops" in bar
        assert any(ch in bar for ch in "▁▂▃▄▅▆▇█")  # the level meter moved

        await pilot.press("f8")
        await until(pilot, lambda: not app.screen.query(PushToTalk), "transcribed", tries=6000)

        assert prompt.text.startswith("Please summarise: ")
        assert len(prompt.text) > len("Please summarise: ")
        assert microphone.streams[0].closed
        assert prompt.has_focus


@pytest.mark.parametrize("over_ssh", [False, True])
async def test_no_input_device_is_a_clear_message(
    speech_app: Callable[..., LocalAIApp], monkeypatch: pytest.MonkeyPatch, over_ssh: bool
) -> None:
    for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        monkeypatch.delenv(name, raising=False)
    if over_ssh:
        monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 52100 10.0.0.1 22")
    app = speech_app(FakeSoundDevice(devices=[]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f8")
        await until(pilot, lambda: notifications(app), "a notification")
        shown = " ".join(notifications(app))
        expected = "This host has no input device" if over_ssh else "No microphone"
        assert expected in shown
        assert "F7 opens the Speech screen" in shown
        assert not app.screen.query(PushToTalk)


async def test_speech_models_have_their_own_picker(
    make_app: Callable[..., LocalAIApp],
    tiny_whisper_dir: Path,
    tiny_gguf_path: Path,
    tmp_path: Path,
) -> None:
    """ctrl+o on the Speech screen lists speech models only; the chat's picker never shows
    them; picking one loads it (in its host process) and the title says where it runs."""
    import shutil

    from textual.widgets import DataTable

    from tests.tui.test_model_picker_and_help import table_text
    from tui.screens.model_picker import ModelPickerScreen

    models = tmp_path / "models"
    shutil.copytree(tiny_whisper_dir, models / "my-whisper")
    shutil.copy(tiny_gguf_path, models / "chat.gguf")
    app = make_app(settings=load_settings(model_dirs=[models]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "chat picker")
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: any("chat" in r for r in table_text(table)), "chat models")
        assert not any("my-whisper" in r for r in table_text(table))
        await pilot.press("escape")

        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "speech screen")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "speech picker")
        assert "Speech models" in str(app.screen.query_one(".picker-title").render())
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count > 0, "speech models listed")
        rows = table_text(table)
        assert len(rows) == 1 and "my-whisper" in rows[0] and "faster-whisper" in rows[0]
        await pilot.press("enter")
        await until(pilot, lambda: "Loaded" in status(app), "speech model loaded", tries=6000)
        title = str(app.screen.query_one("#speech-title").render())
        assert "my-whisper · cpu int8" in title


async def test_speech_actions_are_in_the_palette(speech_app: Callable[..., LocalAIApp]) -> None:
    app = speech_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "speech screen")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Export the transcript" in titles and "Record from the microphone" in titles
        chat_titles = [c.title for c in app.get_system_commands(app.chat)]
        assert "Go to Speech" in chat_titles and "Dictate (push to talk)" in chat_titles
