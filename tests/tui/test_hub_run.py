"""From the Hub to the model in one key: `r` on a downloaded model's card opens the screen
that runs it, with the model loaded there (a NER model on Tasks, a Kokoro voice on the Speak
tab); before the download it says to download first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Select, TabbedContent

from backends.models.manager import ModelManager
from backends.registry import create_task_engine
from backends.settings import load_settings
from backends.speech.tts_manager import TtsManager
from backends.store.conversations import ConversationStore
from backends.tasks.session import TaskSession
from tests.fixtures.fake_sounddevice import FakeSoundDevice
from tests.fixtures.hub_repos import FakeRepo
from tests.fixtures.hub_server import HubServer
from tests.tui.conftest import QuietGauge
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.hub.hub_screen import HubScreen
from tui.hub.model_card_screen import ModelCardScreen
from tui.speech.speech_screen import SpeechScreen
from tui.tasks.tasks_screen import TasksScreen

pytestmark = pytest.mark.slow


def repo_of(repo_id: str, folder: Path, task: str, tags: list[str], library: str) -> FakeRepo:
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    return FakeRepo(repo_id, files, pipeline_tag=task, library_name=library, tags=tags)


@pytest.fixture
def served(hub: HubServer) -> Iterator[Callable[[FakeRepo], None]]:
    added: list[str] = []

    def serve(repo: FakeRepo) -> None:
        hub.add_repo(repo)
        added.append(repo.repo_id)

    yield serve
    for repo_id in added:
        hub.repos.pop(repo_id, None)


@pytest.fixture
def hub_app(
    tmp_path: Path, hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], LocalAIApp]:
    import backends.models.catalog

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    # The demo extra may be installed here: the chat would load it at start.
    monkeypatch.setattr(backends.models.catalog, "demo_spec", lambda: None)

    def build() -> LocalAIApp:
        settings = load_settings(hf_endpoint=hub.endpoint)
        return LocalAIApp(
            settings,
            store=ConversationStore(tmp_path / "data" / "conversations.sqlite3"),
            manager=ModelManager(settings, recents_path=tmp_path / "data" / "recents.json"),
            gauge=QuietGauge(),
            tasks=TaskSession(lambda name: create_task_engine(name, hosted=False), threads=1),
            tts=TtsManager(
                settings,
                sounddevice=FakeSoundDevice(),  # type: ignore[arg-type]
                output_dir=tmp_path / "spoken",
            ),
        )

    return build


def notices(app: LocalAIApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def open_card(pilot: Pilot[None], search: str) -> ModelCardScreen:
    app = pilot.app
    await pilot.press("f3")
    await until(pilot, lambda: isinstance(app.screen, HubScreen), "the Hub")
    await pilot.press(*search, "enter")
    await until(pilot, lambda: app.screen.query("ModelResults").first().row_count > 0, "rows")  # type: ignore[attr-defined]
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ModelCardScreen), "the card")
    card = app.screen
    assert isinstance(card, ModelCardScreen)
    await until(pilot, lambda: card.card is not None, "the card loaded")
    return card


async def download_then_run(pilot: Pilot[None], card: ModelCardScreen) -> None:
    app = pilot.app
    await pilot.press("r")
    await pilot.pause()
    assert any(f"Download {card.repo_id} first (d)" in n for n in notices(app))  # type: ignore[arg-type]
    assert app.screen is card
    await pilot.press("d")
    jobs = card.session.queue.jobs
    await until(pilot, lambda: any(j.state == "done" for j in jobs()), "downloaded", tries=4000)
    await pilot.press("r")


async def test_r_on_a_ner_card_opens_tasks_with_the_model_loaded(
    hub_app: Callable[[], LocalAIApp],
    served: Callable[[FakeRepo], None],
    task_models: dict[str, Path],
) -> None:
    served(
        repo_of(
            "acme/tiny-ner",
            task_models["ner"],
            "token-classification",
            ["transformers", "safetensors", "token-classification"],
            "transformers",
        )
    )
    app = hub_app()
    async with app.run_test(size=(120, 40)) as pilot:
        card = await open_card(pilot, "tiny-ner")
        meta = str(card.query_one("#card-meta").render())
        assert "runs with Tasks" in meta
        await download_then_run(pilot, card)
        await until(pilot, lambda: isinstance(app.screen, TasksScreen), "the Tasks screen")
        status = app.screen.query_one("#tasks-status")
        await until(pilot, lambda: "Loaded" in str(status.render()), "loaded", tries=6000)
        assert app.screen.query_one("#tasks-task", Select).value == "token-classification"
        assert "acme/tiny-ner" in str(status.render())
        assert app.manager.spec is None  # the chat did not try to run it
        await pilot.press("escape")  # back where the user came from: the card
        await until(pilot, lambda: isinstance(app.screen, ModelCardScreen), "back to the card")


async def test_r_on_a_kokoro_card_opens_the_speak_tab_with_the_voice_loaded(
    hub_app: Callable[[], LocalAIApp],
    served: Callable[[FakeRepo], None],
    tiny_kokoro_dir: Path,
) -> None:
    served(
        repo_of(
            "acme/tiny-kokoro",
            tiny_kokoro_dir,
            "text-to-speech",
            ["kokoro", "onnx", "text-to-speech"],
            "onnx",
        )
    )
    app = hub_app()
    async with app.run_test(size=(120, 40)) as pilot:
        card = await open_card(pilot, "tiny-kokoro")
        await download_then_run(pilot, card)
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "the Speech screen")
        assert app.screen.query_one(TabbedContent).active == "speak"
        await until(
            pilot,
            lambda: app.tts.spec is not None and app.tts.spec.repo_id == "acme/tiny-kokoro",
            "the voice loaded",
            tries=6000,
        )
