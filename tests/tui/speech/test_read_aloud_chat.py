"""Reading the last answer aloud in the chat (alt+r), with the tiny Kokoro in its host
process and a fake sound card: the bar follows the sentences, Esc stops, no device -> WAV."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.models.manager import ModelManager
from backends.settings import load_settings
from backends.speech.tts_manager import TtsManager
from backends.store.conversations import ConversationStore
from tests.fixtures.fake_sounddevice import SPEAKERS, FakeSoundDevice
from tests.fixtures.scripted_engine import Script, scripted_spec
from tests.tui.conftest import QuietGauge
from tests.tui.test_chat_screen import answered, notifications, ready, send
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.speech.read_aloud_bar import ReadAloudBar

pytestmark = pytest.mark.slow
ANSWER = ["Hello there. ", "Here is code:\n```\nx = 1. y = 2.\n```\n", "Bye."]


@pytest.fixture
def chat_with_tts(
    tmp_path: Path, scripted_engines: dict[str, Script], tiny_kokoro_dir: Path
) -> Callable[..., LocalAIApp]:
    scripted_engines["a"] = Script(tokens=ANSWER)
    models = tmp_path / "models"
    shutil.copytree(tiny_kokoro_dir, models / "my-kokoro")

    def build(device: FakeSoundDevice, **changes: object) -> LocalAIApp:
        settings = load_settings(model_dirs=[models], **changes)
        return LocalAIApp(
            settings,
            store=ConversationStore(tmp_path / "data" / "conversations.sqlite3"),
            manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
            startup_model=scripted_spec("a", "Model A"),
            gauge=QuietGauge(),
            tts=TtsManager(settings, sounddevice=device, output_dir=tmp_path / "spoken"),  # type: ignore[arg-type]
        )

    return build


def bar_text(app: LocalAIApp) -> str:
    found = app.screen.query(ReadAloudBar)
    return str(found.first().render()) if found else ""


async def test_alt_r_reads_the_last_answer_and_esc_stops_it(
    chat_with_tts: Callable[[FakeSoundDevice], LocalAIApp],
) -> None:
    device = FakeSoundDevice(devices=[SPEAKERS])
    go, playing = threading.Event(), threading.Event()

    def first_block_plays_until_told() -> None:
        playing.set()
        go.wait(10)

    device.on_write = first_block_plays_until_told
    app = chat_with_tts(device)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "say something")
        await answered(app, pilot)
        await pilot.press("alt+r")
        await until(pilot, lambda: "Reading 1/4: Hello there." in bar_text(app), "reading")
        assert "Esc stops" in bar_text(app)
        # Esc once the first block is in the speakers (before that, a stop ends at once and
        # the bar is gone before "Stopping" can be read: CI's fresh run saw that).
        await until(pilot, playing.is_set, "the first block playing")

        await pilot.press("escape")
        assert "Stopping" in bar_text(app)
        go.set()
        await until(pilot, lambda: not app.screen.query(ReadAloudBar), "the bar gone")
        assert "Stopped reading aloud." in " ".join(notifications(app))
        (stream,) = device.outputs
        assert stream.aborted and len(stream.blocks) == 1  # cut within a 0.1 s block


async def test_without_speakers_the_speech_goes_to_a_wav_said_once(
    chat_with_tts: Callable[[FakeSoundDevice], LocalAIApp], tmp_path: Path
) -> None:
    app = chat_with_tts(FakeSoundDevice(devices=[]))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("alt+r")
        await until(pilot, lambda: notifications(app), "a notification")
        assert "no answer to read aloud yet" in " ".join(notifications(app))

        await send(app, pilot, "say something")
        await answered(app, pilot)
        spoken = tmp_path / "spoken"
        for count in (1, 2):
            await pilot.press("alt+r")
            await until(
                pilot,
                lambda count=count: (  # type: ignore[misc]
                    len(list(spoken.glob("*.wav"))) == count and not app.screen.query(ReadAloudBar)
                ),
                f"reading {count} done",
                tries=6000,
            )
        shown = [n for n in notifications(app) if n.startswith("No sound output")]
        wavs = sorted(spoken.glob("*.wav"))
        assert len(shown) == 1 and len(wavs) == 2
        assert str(wavs[0]) in shown[0] or str(wavs[1]) in shown[0]


async def test_alt_a_reads_each_answer_as_it_streams(
    chat_with_tts: Callable[[FakeSoundDevice], LocalAIApp],
) -> None:
    from tui.chat.chat_screen import ChatScreen

    device = FakeSoundDevice(devices=[SPEAKERS])
    app = chat_with_tts(device)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("alt+a")
        assert "as they stream: On" in " ".join(notifications(app))
        await send(app, pilot, "say something")
        await answered(app, pilot)
        screen = app.screen
        assert isinstance(screen, ChatScreen) and screen._read_along is not None
        along = screen._read_along
        expected = ["Hello there.", "Here is code:", "Code block.", "Bye."]
        await until(pilot, lambda: along.spoken == expected, "all read", tries=6000)
        assert len(along.waits_s) == 4 and len(device.outputs) == 4


async def test_the_read_aloud_setting_reads_answers_without_alt_a(
    chat_with_tts: Callable[..., LocalAIApp],
) -> None:
    from tui.chat.chat_screen import ChatScreen

    device = FakeSoundDevice(devices=[SPEAKERS])
    app = chat_with_tts(device, tts={"read_aloud": True})
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "say something")
        await answered(app, pilot)
        screen = app.screen
        assert isinstance(screen, ChatScreen) and screen._read_along is not None
        along = screen._read_along
        await until(pilot, lambda: len(along.spoken) == 4, "all read", tries=6000)
        assert along.spoken[0] == "Hello there." and len(device.outputs) == 4


async def test_alt_p_pauses_and_resumes_with_a_position_line(
    chat_with_tts: Callable[..., LocalAIApp],
) -> None:
    device = FakeSoundDevice(devices=[SPEAKERS])
    go, playing = threading.Event(), threading.Event()

    def first_block_plays_until_told() -> None:
        playing.set()
        go.wait(10)

    device.on_write = first_block_plays_until_told
    app = chat_with_tts(device)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "say something")
        await answered(app, pilot)
        await pilot.press("alt+r")
        await until(pilot, lambda: "00:00.1" in bar_text(app), "the position line")
        assert "alt+p pauses" in bar_text(app)

        await pilot.press("alt+p")
        await until(pilot, lambda: "paused" in bar_text(app), "paused")
        assert "alt+p resumes" in bar_text(app)
        go.set()
        await pilot.press("alt+p")
        await until(
            pilot, lambda: not app.screen.query(ReadAloudBar), "read to the end", tries=6000
        )
        (stream,) = device.outputs
        assert stream.drained and not stream.aborted  # played to the end, not cut


async def test_a_busy_sound_output_is_a_message_and_the_app_goes_on(
    chat_with_tts: Callable[..., LocalAIApp],
) -> None:
    app = chat_with_tts(FakeSoundDevice(devices=[SPEAKERS], busy=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "say something")
        await answered(app, pilot)
        await pilot.press("alt+r")
        await until(pilot, lambda: not app.screen.query(ReadAloudBar), "reading ended", 6000)
        shown = " ".join(notifications(app))
        assert "Sound output busy" in shown and "Close other programs using it" in shown
        await send(app, pilot, "again")  # the app is still there
        await answered(app, pilot)


async def test_no_voice_model_says_what_to_download(
    scripted_engines: dict[str, Script], tmp_path: Path
) -> None:
    scripted_engines["a"] = Script(tokens=ANSWER)
    settings = load_settings()
    app = LocalAIApp(
        settings,
        store=ConversationStore(tmp_path / "data" / "conversations.sqlite3"),
        manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
        startup_model=scripted_spec("a", "Model A"),
        gauge=QuietGauge(),
        tts=TtsManager(
            settings, discover=lambda: [], sounddevice=FakeSoundDevice(devices=[SPEAKERS])
        ),  # type: ignore[arg-type]
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await send(app, pilot, "say something")
        await answered(app, pilot)
        await pilot.press("alt+r")
        await until(pilot, lambda: not app.screen.query(ReadAloudBar), "reading ended", 6000)
        shown = " ".join(notifications(app))
        assert "No text-to-speech model found" in shown
        assert "kokoro-v1.0.onnx" in shown and "voices-v1.0.bin" in shown


async def test_a_sound_output_failing_mid_sentence_is_said_and_the_next_answer_is_read(
    chat_with_tts: Callable[[FakeSoundDevice], LocalAIApp],
) -> None:
    """The speakers fail while alt+a reads (PortAudio raises from write(): unplugged). The
    reading thread died of it with no word, and no later answer was read again."""
    from tests.fixtures.fake_sounddevice import PortAudioError
    from tui.chat.chat_screen import ChatScreen

    device = FakeSoundDevice(devices=[SPEAKERS])

    def unplugged() -> None:
        device.on_write = None  # the next output stream (plugged in again) works
        raise PortAudioError("Stream is stopped [PaErrorCode -9983]")

    device.on_write = unplugged
    app = chat_with_tts(device)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await pilot.press("alt+a")
        await send(app, pilot, "say something")
        await answered(app, pilot)
        await until(pilot, lambda: "Sound output failed" in " ".join(notifications(app)), "told")
        screen = app.screen
        assert isinstance(screen, ChatScreen) and screen._read_along is not None
        along = screen._read_along
        await until(pilot, lambda: not along.speaking, "reading over")
        assert along.spoken == [] and not along.enabled  # reading stopped, and said so
        await pilot.press("alt+a")  # on again: the next answer is read
        await send(app, pilot, "again")
        await answered(app, pilot)
        await until(pilot, lambda: len(along.spoken) == 4, "the next answer read", tries=6000)
