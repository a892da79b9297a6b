"""A model given to --model that is not a chat model opens where it runs, saying so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from backends.base import ModelSpec
from tests.tui.test_chat_screen import notifications
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.speech.speech_screen import SpeechScreen


async def test_a_speech_model_given_to_model_opens_on_the_speech_screen(
    make_app: Callable[..., LocalAIApp], tmp_path: Path
) -> None:
    """It ended as "no model loaded" in the chat with nothing on screen saying why."""
    folder = tmp_path / "whisper-base"
    folder.mkdir()
    spec = ModelSpec(
        key=f"whisper:{folder}", name="whisper-base", engine="faster_whisper", path=str(folder)
    )
    app = make_app(spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SpeechScreen), "the Speech screen")
        assert any("whisper-base is a speech model" in n for n in notifications(app))
        status = app.screen.query_one("#speech-status")
        # Loading it there is tried, and its outcome is on that screen (here: no weights).

        def ended() -> bool:
            text = str(status.render())
            return bool(text) and "Loading" not in text and not text.startswith("Name an")

        await until(pilot, ended, "the load's end")
        assert app.manager.spec is None  # the chat did not try to run it


async def test_a_model_of_a_task_no_engine_runs_is_refused_with_the_tasks_that_run(
    make_app: Callable[..., LocalAIApp], tmp_path: Path
) -> None:
    """A depth-estimation repo given to --model was loaded as a chat model (and failed)."""
    spec = ModelSpec(
        key="hf:org/dpt-depth", name="org/dpt-depth", engine="transformers", path=str(tmp_path),
        task="depth-estimation",
    )  # fmt: skip
    app = make_app(spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(
            pilot, lambda: any("no engine here runs that task" in n for n in notifications(app)),
            "the refusal",
        )  # fmt: skip
        assert "token-classification" in " ".join(notifications(app))
        assert app.manager.spec is None
