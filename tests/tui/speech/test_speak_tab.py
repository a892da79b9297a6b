"""The Speak tab (F7, alt+s): text in, speech out through the tiny Kokoro in its host, a
fake sound card, a .wav written and read back with `wave`, and a picture of the tab."""

from __future__ import annotations

import shutil
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Input, Select, TextArea

from backends.models.manager import ModelManager
from backends.settings import load_settings
from backends.speech.manager import SpeechManager
from backends.speech.tts_manager import TtsManager
from backends.store.conversations import ConversationStore
from tests.fixtures.fake_sounddevice import SPEAKERS, FakeSoundDevice
from tests.tui.conftest import QuietGauge
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.speech.speech_screen import SpeechScreen

pytestmark = pytest.mark.slow
TEXT = "Good morning. The weather is fine today!"


@pytest.fixture
def speak_app(tmp_path: Path, tiny_kokoro_dir: Path) -> Callable[..., LocalAIApp]:
    models = tmp_path / "models"
    shutil.copytree(tiny_kokoro_dir, models / "my-kokoro")

    def build(device: FakeSoundDevice, **changes: object) -> LocalAIApp:
        settings = load_settings(model_dirs=[models], **changes)
        return LocalAIApp(
            settings,
            store=ConversationStore(tmp_path / "data" / "conversations.sqlite3"),
            manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
            gauge=QuietGauge(),
            speech=SpeechManager(settings, discover=lambda: [], sounddevice=device),  # type: ignore[arg-type]
            tts=TtsManager(settings, sounddevice=device, output_dir=tmp_path / "spoken"),  # type: ignore[arg-type]
        )

    return build


def status(app: LocalAIApp) -> str:
    return str(app.screen.query_one("#speak-status").render())


async def open_speak_tab(app: LocalAIApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("f7")
    await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "speech screen")
    await pilot.press("alt+s")
    await until(pilot, lambda: app.screen.query_one("#speak-text").has_focus, "speak tab")


async def test_speak_plays_sentences_and_shows_the_real_time_factor(
    speak_app: Callable[[FakeSoundDevice], LocalAIApp],
) -> None:
    device = FakeSoundDevice(devices=[SPEAKERS])
    app = speak_app(device)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_speak_tab(app, pilot)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Nothing to say" in status(app), "empty text refused")

        app.screen.query_one("#speak-text", TextArea).text = TEXT
        await pilot.press("ctrl+r")
        await until(pilot, lambda: status(app).startswith("Done:"), "spoken", tries=6000)
        assert "2 sentences" in status(app) and "real-time factor" in status(app)
        assert app.screen.query_one("#speak-voice", Select).value == "af_test"
        assert device.outputs and device.outputs[0].samples.size > 0


async def test_ctrl_s_writes_a_wav(
    speak_app: Callable[[FakeSoundDevice], LocalAIApp], tmp_path: Path
) -> None:
    app = speak_app(FakeSoundDevice(devices=[SPEAKERS]))
    target = tmp_path / "out" / "morning.wav"
    async with app.run_test(size=(120, 40)) as pilot:
        await open_speak_tab(app, pilot)
        app.screen.query_one("#speak-text", TextArea).text = TEXT
        await pilot.press("ctrl+s")
        app.screen.query_one("#speak-save", Input).value = str(target)
        await pilot.press("enter")
        await until(pilot, lambda: "Saved the speech" in status(app), "saved", tries=6000)
        assert str(target) in status(app)
    with wave.open(str(target)) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (1, 24_000)
        assert wav.getnframes() > 0


def test_the_speak_tab(
    snap_compare,  # type: ignore[no-untyped-def]
    speak_app: Callable[[FakeSoundDevice], LocalAIApp],
) -> None:
    """The Speak tab before the first play: the tabs (Speak active), voice (the model's
    default until it loads) and speed, the text typed, the hint line, the tab's keys."""
    app = speak_app(FakeSoundDevice(devices=[SPEAKERS]))

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await open_speak_tab(app, pilot)
        area = app.screen.query_one("#speak-text", TextArea)
        area.text = TEXT
        area.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 24), run_before=run_before)


async def test_the_tab_starts_with_the_voice_and_speed_of_the_settings(
    speak_app: Callable[..., LocalAIApp],
) -> None:
    device = FakeSoundDevice(devices=[SPEAKERS])
    app = speak_app(device, tts={"voice": "bm_test", "speed": 1.5})
    async with app.run_test(size=(120, 40)) as pilot:
        await open_speak_tab(app, pilot)
        assert app.screen.query_one("#speak-speed", Input).value == "1.5"
        app.screen.query_one("#speak-text", TextArea).text = TEXT
        await pilot.press("ctrl+r")
        await until(pilot, lambda: status(app).startswith("Done"), "spoken", tries=6000)
        assert app.screen.query_one("#speak-voice", Select).value == "bm_test"


NOTES = """# Morning notes

The **weather** is *fine* today. See [the forecast](https://example.com).

```python
print("never spoken")
```

- Take an `umbrella` anyway.
"""


async def test_ctrl_l_opens_a_markdown_file_without_its_markup(
    speak_app: Callable[[FakeSoundDevice], LocalAIApp], tmp_path: Path
) -> None:
    (tmp_path / "notes.md").write_text(NOTES, encoding="utf-8")
    app = speak_app(FakeSoundDevice(devices=[SPEAKERS]))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_speak_tab(app, pilot)
        await pilot.press("ctrl+l")
        field = app.screen.query_one("#speak-open", Input)
        assert field.has_focus
        field.value = str(tmp_path / "nowhere.md")
        await pilot.press("enter")
        await until(pilot, lambda: "Cannot open the text" in status(app), "missing file")
        assert "There is no file" in status(app)

        field.value = str(tmp_path / "no")  # Tab completes the name, as in every path box
        await pilot.press("tab")
        assert field.value == str(tmp_path / "notes.md")
        await pilot.press("enter")
        await until(pilot, lambda: "Opened notes.md" in status(app), "opened")
        text = app.screen.query_one("#speak-text", TextArea).text
        assert text.split("\n\n") == [
            "Morning notes",
            "The weather is fine today.",
            "See the forecast.",
            "Code block.",
            "Take an umbrella anyway.",
        ]
        assert "5 sentences (Markdown markup left out)" in status(app)
        assert app.screen.query_one("#speak-text", TextArea).has_focus


async def test_text_in_a_language_the_voice_cannot_speak_says_so(
    speak_app: Callable[[FakeSoundDevice], LocalAIApp],
) -> None:
    device = FakeSoundDevice(devices=[SPEAKERS])
    app = speak_app(device)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_speak_tab(app, pilot)
        app.screen.query_one("#speak-text", TextArea).text = "これは日本語の文章です。"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Wrong language" in status(app), "refused", tries=6000)
        assert "Japanese kana" in status(app) and "af_test" in status(app)
        assert not device.outputs or device.outputs[0].samples.size == 0


async def test_no_model_names_what_to_install_with_its_brackets(tmp_path: Path) -> None:
    """The message names pip extras ('localai-tui[pocket]'): shown as text, not as markup."""
    from tests.tui.test_chat_screen import notifications

    settings = load_settings(model_dirs=[])
    device = FakeSoundDevice(devices=[SPEAKERS])
    app = LocalAIApp(
        settings,
        store=ConversationStore(tmp_path / "conversations.sqlite3"),
        manager=ModelManager(settings, recents_path=tmp_path / "recents.json"),
        gauge=QuietGauge(),
        speech=SpeechManager(settings, discover=lambda: [], sounddevice=device),  # type: ignore[arg-type]
        tts=TtsManager(settings, discover=lambda: [], sounddevice=device, output_dir=tmp_path),  # type: ignore[arg-type]
    )
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await open_speak_tab(app, pilot)
        app.screen.query_one("#speak-text", TextArea).text = TEXT
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Model not found" in status(app), "no model")
        assert any("localai-tui[pocket]" in text for text in notifications(app))
        await pilot.pause()
        shown = "".join(str(toast.render()) for toast in app.screen.query("Toast"))
        assert "localai-tui[pocket]" in shown.replace("\n", " ").replace("  ", " ")
