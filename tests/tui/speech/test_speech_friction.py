"""What a new user hit on the Speech screen (issue 12, A6 and B), each as the user sees it:
a typo in the language, a folder for a file, a stopped run's figures, the picker, export
over an existing file, leaving and coming back, ctrl+g into a prompt with text, the
detected language, and switches that say On or Off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from backends.models.manager import ModelManager
from backends.settings import load_settings
from backends.speech.manager import SpeechManager
from backends.speech.protocol import TranscriptionFinished, TranscriptionStarted
from backends.store.conversations import ConversationStore
from tests.fixtures.fake_sounddevice import FakeSoundDevice
from tests.tui.conftest import QuietGauge
from tests.tui.speech.test_speech_screen import speech_screen, status
from tests.tui.test_chat_screen import notifications
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.prompt_input import PromptInput
from tui.screens.confirm import ConfirmScreen
from tui.speech.segment_list import SegmentLine
from tui.speech.speech_screen import SpeechScreen
from tui.speech.transcript_status import finished_line

pytestmark = pytest.mark.slow


async def open_speech(app: LocalAIApp, pilot) -> SpeechScreen:  # type: ignore[no-untyped-def]
    await pilot.press("f7")
    await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "speech screen")
    return speech_screen(app)


async def transcribe(app: LocalAIApp, pilot, wav: Path) -> None:  # type: ignore[no-untyped-def]
    field = app.screen.query_one("#speech-file", Input)
    field.value = str(wav)
    field.focus()
    await pilot.press("enter")
    await until(pilot, lambda: "Done:" in status(app), "transcription done", tries=6000)


async def test_an_unknown_language_says_so_not_that_the_file_is_unreadable(
    speech_app: Callable[..., LocalAIApp], spoken_wav: Path
) -> None:
    app = speech_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_speech(app, pilot)
        app.screen.query_one("#speech-language", Input).value = "xx"
        app.screen.query_one("#speech-file", Input).value = str(spoken_wav)
        app.screen.query_one("#speech-file", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: "Unknown language" in status(app), "the language message")
        shown = status(app)
        assert "'xx' is not a language Whisper knows" in shown and "auto to detect" in shown
        assert "decode" not in shown and "convert" not in shown
        assert app.screen.query_one("#speech-language", Input).has_focus


async def test_a_folder_says_folder_and_replaces_the_last_error(
    speech_app: Callable[..., LocalAIApp], spoken_wav: Path
) -> None:
    app = speech_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_speech(app, pilot)
        app.screen.query_one("#speech-language", Input).value = "xx"
        await pilot.press(*str(spoken_wav), "enter")
        await until(pilot, lambda: "Unknown language" in status(app), "a first error")

        app.screen.query_one("#speech-language", Input).value = "en"
        field = app.screen.query_one("#speech-file", Input)
        field.value = str(spoken_wav.parent)
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: "is a folder" in status(app), "the folder message")
        assert "Unknown language" not in status(app)
        assert "There is no file" not in " ".join(notifications(app))


def test_a_stopped_run_says_how_much_audio_its_segments_cover() -> None:
    started = TranscriptionStarted("en", 1.0, duration_s=65.0, duration_kept_s=65.0)
    stopped = TranscriptionFinished("cancelled", segments=1, audio_s=12.4, elapsed_s=0.8)
    line = finished_line(stopped, started, "en")
    assert line.startswith("Stopped: 1 segment covering 00:12.4 of 01:05.0 of audio in 0.8 s")
    assert "English (given)" in line


async def test_the_picker_lists_the_configured_model_once_it_is_loaded(
    tmp_path: Path, tiny_whisper_dir: Path, spoken_wav: Path
) -> None:
    """speech.model names a folder outside the cache and model_dirs: it loads, and the
    picker used to say "No speech models found" beside it."""
    settings = load_settings(speech={"model": str(tiny_whisper_dir), "language": "en"})
    app = LocalAIApp(
        settings,
        store=ConversationStore(tmp_path / "data" / "conversations.sqlite3"),
        manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
        gauge=QuietGauge(),
        speech=SpeechManager(settings, sounddevice=FakeSoundDevice(devices=[])),  # type: ignore[arg-type]
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await open_speech(app, pilot)
        await transcribe(app, pilot, spoken_wav)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: app.screen.query(".picker-title"), "speech picker")
        notes = app.screen.query_one("#picker-notes")
        await until(pilot, lambda: "Looking" not in str(notes.render()), "discovery done")
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        # the fixture's model is in a ct2/ subfolder: named after the folder holding it
        assert tiny_whisper_dir.parent.name in str(table.get_row_at(0)[1])
        assert "No speech models found" not in str(notes.render())


async def test_export_asks_before_replacing_a_file(
    speech_app: Callable[..., LocalAIApp], spoken_wav: Path, tmp_path: Path
) -> None:
    existing = tmp_path / "notes.txt"
    existing.write_text("my own notes\n")
    app = speech_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_speech(app, pilot)
        await transcribe(app, pilot, spoken_wav)
        await pilot.press("ctrl+s")
        app.screen.query_one("#speech-export", Input).value = str(existing)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert "notes.txt already exists" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, "back on the form")
        assert existing.read_text() == "my own notes\n"

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked again")
        await pilot.press("y")
        await until(pilot, lambda: "Saved the transcript" in status(app), "saved")
        assert existing.read_text() != "my own notes\n"
        segments = len(screen.segments)
        noun = "segment" if segments == 1 else "segments"
        assert f"({segments} {noun})" in status(app)  # never "(1 segments)"


async def test_leaving_and_coming_back_keeps_transcript_path_and_language(
    speech_app: Callable[..., LocalAIApp], spoken_wav: Path
) -> None:
    app = speech_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_speech(app, pilot)
        app.screen.query_one("#speech-language", Input).value = "English"
        await transcribe(app, pilot, spoken_wav)
        lines = [str(line.render()) for line in app.screen.query(SegmentLine)]
        before = status(app)
        assert lines and "English (given)" in before  # the language is shown, by name

        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SpeechScreen), "back in chat")
        await open_speech(app, pilot)
        assert [str(line.render()) for line in app.screen.query(SegmentLine)] == lines
        assert app.screen.query_one("#speech-file", Input).value == str(spoken_wav)
        assert app.screen.query_one("#speech-language", Input).value == "English"
        assert status(app) == before


async def test_the_detected_language_is_shown(
    speech_app: Callable[..., LocalAIApp], spoken_wav: Path
) -> None:
    app = speech_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_speech(app, pilot)
        app.screen.query_one("#speech-language", Input).value = "auto"
        await transcribe(app, pilot, spoken_wav)
        assert "English (detected" in status(app)


async def test_ctrl_g_into_a_prompt_with_text_keeps_the_words_apart(
    speech_app: Callable[..., LocalAIApp], spoken_wav: Path
) -> None:
    app = speech_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"Summarise:")
        screen = await open_speech(app, pilot)
        await transcribe(app, pilot, spoken_wav)
        words = " ".join(s.text for s in screen.segments if s.text)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: not isinstance(app.screen, SpeechScreen), "back in chat")
        assert app.screen.query_one(PromptInput).text == f"Summarise: {words}"


async def test_switches_say_on_or_off(speech_app: Callable[..., LocalAIApp]) -> None:
    app = speech_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_speech(app, pilot)

        def label(which: str) -> str:
            return str(app.screen.query_one(f"#speech-{which}").label)  # type: ignore[attr-defined]

        assert (label("translate"), label("vad")) == (
            "Translate to English: Off",
            "Skip silence (VAD): Off",
        )
        await pilot.press("ctrl+t", "ctrl+f")
        await pilot.pause()
        assert (label("translate"), label("vad")) == (
            "Translate to English: On",
            "Skip silence (VAD): On",
        )


async def test_the_title_says_how_to_pick_a_model_within_80_columns(
    speech_app: Callable[..., LocalAIApp],
) -> None:
    """At 80 columns the title was cut before "ctrl+o picks", the one action it offers."""
    from textual.widgets import Static

    app = speech_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_speech(app, pilot)
        title = screen.query_one("#speech-title", Static)
        text = str(title.render())
        assert "ctrl+o picks" in text and len(text) <= title.content_size.width, text
