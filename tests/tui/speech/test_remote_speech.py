"""The Speech screen with a server's Whisper: picked in the speech picker (server named),
a file transcribed into timed segments."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from backends.models.manager import ModelManager
from backends.settings import load_settings
from backends.speech.manager import SpeechManager
from backends.store.conversations import ConversationStore
from tests.fixtures.openai_media_server import OpenAIMediaServer
from tests.tui.conftest import QuietGauge
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.speech.segment_list import SegmentLine
from tui.speech.speech_screen import SpeechScreen


async def test_pick_a_servers_whisper_and_transcribe_a_file(
    media_server: OpenAIMediaServer, tmp_path: Path
) -> None:
    settings = load_settings(servers=[{"name": "lab", "base_url": media_server.base_url}])
    app = LocalAIApp(
        settings,
        store=ConversationStore(tmp_path / "data" / "c.sqlite3"),
        manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
        gauge=QuietGauge(),
        speech=SpeechManager(settings, discover=lambda: []),
    )
    audio = tmp_path / "note.wav"
    audio.write_bytes(b"RIFF")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "speech screen")
        await pilot.press("ctrl+o")
        key = "openai_stt:lab/whisper-1"
        await until(
            pilot,
            lambda: (
                bool(app.screen.query(DataTable)) and key in app.screen.query_one(DataTable).rows
            ),
            "the server's whisper in the picker",
        )
        table = app.screen.query_one(DataTable)
        row = table.get_row(key)
        assert "lab (" in str(row[-1]) and "OpenAI transcription" in str(row[3])
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "back on speech")
        await until(pilot, lambda: app.speech.spec is not None, "the remote model loaded")
        await pilot.press(*str(audio), "enter")
        status = lambda: str(app.screen.query_one("#speech-status").render())  # noqa: E731
        await until(pilot, lambda: "Done:" in status(), "transcribed")
        lines = [str(line.render()) for line in app.screen.query(SegmentLine)]
        assert any("Hello from the server." in line for line in lines)
        assert any("Second segment here." in line for line in lines)


async def test_pick_a_servers_voice_on_the_speak_tab_and_hear_it(
    media_server: OpenAIMediaServer, tmp_path: Path
) -> None:
    from textual.widgets import Select, TextArea

    from backends.speech.tts_manager import TtsManager
    from tests.fixtures.fake_sounddevice import SPEAKERS, FakeSoundDevice

    settings = load_settings(servers=[{"name": "lab", "base_url": media_server.base_url}])
    device = FakeSoundDevice(devices=[SPEAKERS])
    app = LocalAIApp(
        settings,
        store=ConversationStore(tmp_path / "data" / "c.sqlite3"),
        manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
        gauge=QuietGauge(),
        speech=SpeechManager(settings, discover=lambda: []),
        tts=TtsManager(settings, discover=lambda: [], sounddevice=device),  # type: ignore[arg-type]
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "speech screen")
        await pilot.press("alt+s")
        await pilot.press("ctrl+o")
        key = "openai_tts:lab/kokoro"
        await until(
            pilot,
            lambda: (
                bool(app.screen.query(DataTable)) and key in app.screen.query_one(DataTable).rows
            ),
            "the server's voice model in the picker",
        )
        table = app.screen.query_one(DataTable)
        assert "OpenAI speech" in str(table.get_row(key)[3])
        assert "openai_stt:lab/whisper-1" not in table.rows  # only text-to-speech here
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "back on speech")
        status = lambda: str(app.screen.query_one("#speak-status").render())  # noqa: E731
        await until(pilot, lambda: "Loaded kokoro" in status(), "the server's voice loaded")
        app.screen.query_one("#speak-text", TextArea).text = "Hello there. Bye now!"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: status().startswith("Done"), "spoken")
        assert app.screen.query_one("#speak-voice", Select).value == "af_heart"
        (stream,) = device.outputs
        assert stream.samplerate == 24_000 and stream.samples.size > 0
        assert media_server.paths("POST").count("/v1/audio/speech") == 2


async def test_a_streamed_transcription_shows_its_text_as_it_arrives(
    media_server: OpenAIMediaServer, tmp_path: Path
) -> None:
    """OpenAI's stream shape: the first delta is on screen while the server holds the rest,
    then the whole text lands as the final segment and the growing line goes."""
    media_server.transcript_stream, media_server.hold_transcript = "openai", True
    app = _app_with_server_whisper(media_server, tmp_path)
    audio = tmp_path / "note.wav"
    audio.write_bytes(b"RIFF")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "speech screen")
        await pilot.press(*str(audio), "enter")
        shown = lambda: [str(w.render()) for w in app.screen.query(".segment-partial")]  # noqa: E731
        await until(pilot, lambda: shown() == ["… Hello"], "the first words on screen")
        assert not app.screen.query(SegmentLine)
        media_server.release.set()
        status = lambda: str(app.screen.query_one("#speech-status").render())  # noqa: E731
        await until(pilot, lambda: "Done:" in status(), "transcribed")
        await until(pilot, lambda: not shown(), "the growing line replaced")
        (line,) = [str(line.render()) for line in app.screen.query(SegmentLine)]
        assert "00:00.0 → 00:03.0  Hello from the server. Second segment here." in line


async def test_a_servers_segment_stream_shows_each_segment_as_it_comes(
    media_server: OpenAIMediaServer, tmp_path: Path
) -> None:
    """speaches' stream shape: a timed segment per event, the first on screen before the
    server sends the second."""
    media_server.transcript_stream, media_server.hold_transcript = "speaches", True
    app = _app_with_server_whisper(media_server, tmp_path)
    audio = tmp_path / "note.wav"
    audio.write_bytes(b"RIFF")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "speech screen")
        await pilot.press(*str(audio), "enter")
        lines = lambda: [str(line.render()) for line in app.screen.query(SegmentLine)]  # noqa: E731
        await until(pilot, lambda: len(lines()) == 1, "the first segment on screen")
        assert lines()[0].startswith("00:00.0 → 00:01.5") and "Hello from the server." in lines()[0]
        media_server.release.set()
        status = lambda: str(app.screen.query_one("#speech-status").render())  # noqa: E731
        await until(pilot, lambda: "Done:" in status(), "transcribed")
        assert lines()[1].startswith("00:01.5 → 00:03.2") and "Second segment here." in lines()[1]


def _app_with_server_whisper(media_server: OpenAIMediaServer, tmp_path: Path) -> LocalAIApp:
    settings = load_settings(
        servers=[{"name": "lab", "base_url": media_server.base_url}],
        speech={"model": "openai_stt:lab/whisper-1"},
    )
    return LocalAIApp(
        settings,
        store=ConversationStore(tmp_path / "data" / "c.sqlite3"),
        manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
        gauge=QuietGauge(),
        speech=SpeechManager(settings, discover=lambda: []),
    )
