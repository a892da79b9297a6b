"""The chat's model picker on a cache of every kind: chat models first, image and task models
apart with their kind, a task no engine runs marked and refused (speech models and voices
keep to their own pickers); the Tasks picker lists task models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable

from backends.base import ModelSpec
from tests.fixtures.model_cache import MIXED_REPOS, mixed_cache
from tests.tui.test_model_picker_and_help import table_text
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.screens.model_picker import ModelPickerScreen


@pytest.fixture
def mixed_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import backends.models.catalog

    monkeypatch.setattr(backends.models.catalog, "demo_spec", lambda: None)
    cache = mixed_cache(tmp_path / "hf")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


def kinds_by_name(table: DataTable) -> dict[str, str]:  # type: ignore[type-arg]
    """Repo id (or the row's name) -> the Kind column as read, in the table's order; for a
    task no engine runs, "<its task> · not supported" (Kind, then Engine)."""
    kinds = {}
    for i, row in enumerate(table_text(table)):
        key = str(table.coordinate_to_cell_key((i, 0)).row_key.value)
        cells = row.split(" | ")
        name = key.removeprefix("hf:") if key.startswith("hf:") else cells[1]
        kinds[name] = cells[2]
        if cells[3] == "✗ not supported":
            kinds[name] += " · not supported"
    return kinds


async def discovered(pilot, picker: ModelPickerScreen) -> None:  # type: ignore[no-untyped-def]
    notes = picker.query_one("#picker-notes")
    await until(pilot, lambda: "Looking" not in str(notes.render()), "discovery done")


async def test_chat_picker_lists_chat_models_first_and_other_kinds_apart(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, mixed_hf_cache: Path
) -> None:
    """A depth-estimation and a transformers text-to-speech repo were listed as chat models
    ("transformers") and loading one could only fail."""
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.manager.spec is not None, "model A")
        await pilot.press("ctrl+o")
        picker = app.screen
        assert isinstance(picker, ModelPickerScreen)
        await discovered(pilot, picker)
        table = picker.query_one(DataTable)
        kinds = kinds_by_name(table)
        repos = {name: kind for name, kind in kinds.items() if name in MIXED_REPOS}
        gguf = [kind for name, kind in kinds.items() if "org/chat-GGUF" in name]
        labels = {repo: label for repo, (_, label) in MIXED_REPOS.items()}
        del labels["org/chat-GGUF"]  # a GGUF's row is named by its file
        for own_picker in ("org/faster-whisper-tiny", "org/kokoro-onnx"):
            del labels[own_picker]  # speech models and voices: the Speech screen's pickers
        assert repos == labels and gguf == ["chat"]
        order = list(kinds.values())
        chat_rows = [i for i, kind in enumerate(order) if kind == "chat"]
        other_rows = [i for i, kind in enumerate(order) if kind != "chat"]
        assert max(chat_rows) < min(other_rows)  # Model A, the GGUF, the llama, then others
        assert set(order[-2:]) == {
            "depth-estimation · not supported",
            "text-to-speech · not supported",
        }

        table.move_cursor(row=list(kinds).index("org/dpt-depth"))
        await pilot.pause()
        notes = str(picker.query_one("#picker-notes").render())
        assert "org/dpt-depth is a depth-estimation model: no engine here runs that task" in notes
        await pilot.press("enter")  # refused, with the tasks that do run
        await pilot.pause()
        assert app.screen is picker
        assert any(n.title == "depth-estimation is not supported" for n in app._notifications)
        assert app.manager.spec is not None and app.manager.spec.key == model_a.key

        table.move_cursor(row=list(kinds).index("org/ner-bert"))
        await pilot.pause()
        notes = str(picker.query_one("#picker-notes").render())
        assert "not a chat model: Enter opens it on Tasks" in notes


async def test_tasks_picker_lists_task_models_and_unsupported_tasks_only(
    make_app: Callable[..., LocalAIApp], model_a: ModelSpec, mixed_hf_cache: Path
) -> None:
    app = make_app(model_a)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f12")
        await pilot.pause()
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "picker")
        picker = app.screen
        assert isinstance(picker, ModelPickerScreen)
        await discovered(pilot, picker)
        assert kinds_by_name(picker.query_one(DataTable)) == {
            "org/ner-bert": "token-classification",
            "org/dpt-depth": "depth-estimation · not supported",
            "org/mms-tts": "text-to-speech · not supported",
        }
