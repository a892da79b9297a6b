"""The hands-free voice loop in the chat: F8 → speech from a fake microphone → the tiny Whisper
→ the prompt sent (or left to edit) → the answer → the tiny Kokoro → a fake speaker; and F8
while the app speaks stops the speech and listens again."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.models.manager import ModelManager
from backends.settings import load_settings
from backends.speech.manager import SpeechManager
from backends.speech.tts_manager import TtsManager
from backends.store.conversations import ConversationStore
from tests.fixtures.fake_sounddevice import SPEAKERS, FakeSoundDevice, tone
from tests.fixtures.scripted_engine import Script, scripted_spec
from tests.fixtures.tiny_whisper import read_wav
from tests.tui.conftest import QuietGauge
from tests.tui.test_chat_screen import answered, chat, notifications, ready, views
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.chat.prompt_input import PromptInput
from tui.speech.push_to_talk import PushToTalk

pytestmark = pytest.mark.slow
ANSWER = ["Sure thing. ", "It is sunny today.", " Bye."]
MICROPHONE = {"name": "mic", "max_input_channels": 1, "default_samplerate": 16000}


@pytest.fixture
def sound_card(spoken_wav: Path) -> FakeSoundDevice:
    """One card with a microphone that hears a spoken sentence, and speakers."""
    speech = read_wav(spoken_wav)
    blocks = [speech[i : i + 1600] for i in range(0, speech.size, 1600)]
    blocks += tone(0.2, rate=16_000)
    return FakeSoundDevice(frames=blocks, devices=[dict(MICROPHONE), dict(SPEAKERS)])


@pytest.fixture
def voice_app(
    tmp_path: Path,
    scripted_engines: dict[str, Script],
    tiny_whisper_spec: ModelSpec,
    tiny_kokoro_dir: Path,
) -> Callable[..., LocalAIApp]:
    scripted_engines["a"] = Script(tokens=ANSWER)
    models = tmp_path / "models"
    shutil.copytree(tiny_kokoro_dir, models / "my-kokoro")

    def build(
        card: FakeSoundDevice, chat_model: ModelSpec | None = None, **changes: object
    ) -> LocalAIApp:
        settings = load_settings(
            model_dirs=[models], speech={"language": "en", "beam_size": 1}, **changes
        )
        return LocalAIApp(
            settings,
            store=ConversationStore(tmp_path / "data" / "conversations.sqlite3"),
            manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
            startup_model=chat_model or scripted_spec("a", "Model A"),
            gauge=QuietGauge(),
            speech=SpeechManager(settings, discover=lambda: [tiny_whisper_spec], sounddevice=card),  # type: ignore[arg-type]
            tts=TtsManager(settings, sounddevice=card, output_dir=tmp_path / "spoken"),  # type: ignore[arg-type]
        )

    return build


async def talk(app: LocalAIApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """F8, the microphone hears its sentence, F8 again; wait for the transcript."""
    await pilot.press("f8")
    await until(pilot, lambda: app.screen.query(PushToTalk), "recording")
    await pilot.press("f8")
    await until(pilot, lambda: not app.screen.query(PushToTalk), "transcribed", tries=6000)


def spoken_samples(card: FakeSoundDevice) -> int:
    return sum(stream.samples.size for stream in card.outputs)


async def test_a_spoken_question_is_sent_and_its_answer_read_aloud(
    voice_app: Callable[..., LocalAIApp], sound_card: FakeSoundDevice
) -> None:
    app = voice_app(sound_card)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await talk(app, pilot)
        await until(pilot, lambda: len(views(app)) == 2, "question and answer")
        await answered(app, pilot)
        (question, _answer) = views(app)
        assert question[0] == "user" and question[1].strip()  # the tiny Whisper's words
        assert app.screen.query_one(PromptInput).text == ""
        along = chat(app)._read_along
        assert along is not None
        expected = ["Sure thing.", "It is sunny today.", "Bye."]
        await until(pilot, lambda: along.spoken == expected, "answer read", tries=6000)
        assert spoken_samples(sound_card) > 0 and len(sound_card.outputs) == 3
        assert not along.enabled  # only that answer: alt+a stays off


async def test_edit_mode_leaves_the_words_and_reads_the_answer_once_sent(
    voice_app: Callable[..., LocalAIApp], sound_card: FakeSoundDevice
) -> None:
    app = voice_app(sound_card, tts={"voice_loop_send": "edit"})
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await talk(app, pilot)
        prompt = app.screen.query_one(PromptInput)
        assert prompt.text.strip() and len(views(app)) == 0  # waits for the user
        await pilot.press("enter")
        await answered(app, pilot)
        along = chat(app)._read_along
        assert along is not None
        await until(pilot, lambda: len(along.spoken) == 3, "answer read", tries=6000)
        assert len(sound_card.outputs) == 3


async def test_f8_while_the_answer_is_spoken_stops_it_and_listens(
    voice_app: Callable[..., LocalAIApp], sound_card: FakeSoundDevice
) -> None:
    go = threading.Event()
    sound_card.on_write = lambda: go.wait(10)  # the first block plays until the test says so
    app = voice_app(sound_card)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, "a")
        await talk(app, pilot)
        await until(pilot, lambda: sound_card.outputs, "speaking")
        along = chat(app)._read_along
        assert along is not None and along.speaking

        await pilot.press("f8")  # cut in: silence, and a new recording
        go.set()
        await until(pilot, lambda: app.screen.query(PushToTalk), "listening again")
        await until(pilot, lambda: not along.speaking, "silent")
        assert sound_card.outputs[0].aborted and len(sound_card.outputs[0].blocks) == 1
        assert along.spoken == []  # the sentence cut off is not counted as said
        assert len(sound_card.streams) == 2  # the microphone opened a second time


async def test_the_loop_with_a_tiny_gguf_chat_model(
    voice_app: Callable[..., LocalAIApp], sound_card: FakeSoundDevice, tiny_gguf_spec: ModelSpec
) -> None:
    """STT → a real (tiny, random) llama.cpp model → TTS chunks on the fake speaker."""
    from textual.widgets import Input

    app = voice_app(sound_card, tiny_gguf_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, tiny_gguf_spec.key)
        app.query_one("#param-max_new_tokens", Input).value = "12"
        app.query_one("#param-seed", Input).value = "1"
        await talk(app, pilot)
        await until(pilot, lambda: len(views(app)) == 2, "question and answer", tries=6000)
        await answered(app, pilot)
        along = chat(app)._read_along
        assert along is not None
        # The question is whatever the random tiny Whisper heard: its temperature fallback
        # samples from CTranslate2's unseeded generator, so each run asks (and the model
        # answers) something else. Should nothing be read, say what was answered and shown.
        try:
            await until(pilot, lambda: along.spoken, "something read", tries=6000)
        except AssertionError:
            raise AssertionError(
                f"nothing read: answer {views(app)[-1]!r}; reader speaking {along.speaking}; "
                f"notices {notifications(app)}"
            ) from None
        assert spoken_samples(sound_card) > 0
