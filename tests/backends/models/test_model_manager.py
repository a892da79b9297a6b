"""ModelManager: a failed load keeps the previous model; recents persist, newest first."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from backends.errors import LoadCancelled, ModelNotFound
from backends.models.manager import ModelManager
from backends.settings import load_settings
from tests.fixtures.scripted_engine import Script, scripted_engines, scripted_spec

__all__ = ["scripted_engines"]


def test_switch_unloads_previous_only_after_success(
    scripted_engines: dict[str, Script], tmp_path: Path
) -> None:
    scripted_engines["a"] = Script(tokens=["a"])
    scripted_engines["b"] = Script(tokens=["b"])
    manager = ModelManager(load_settings(), recents_path=tmp_path / "recent.json")
    first = manager.switch(scripted_spec("a"))
    with pytest.raises(ModelNotFound):
        manager.switch(scripted_spec("missing"))
    assert manager.engine is first and first.loaded and manager.spec.key == "a"  # type: ignore[union-attr]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(LoadCancelled):
        manager.switch(scripted_spec("b"), cancel=cancel)
    assert manager.engine is first and scripted_engines["a"].unloads == 0
    manager.switch(scripted_spec("b"))
    assert scripted_engines["a"].unloads == 1 and not first.loaded
    assert manager.label() == "b · scripted"
    assert manager.footprint() is not None and manager.footprint().ram_bytes > 0  # type: ignore[union-attr]


def test_each_load_reads_the_per_model_settings_as_the_file_says_now(
    scripted_engines: dict[str, Script], tmp_path: Path
) -> None:
    """The "context window full" message says: set n_ctx, then load the model again."""
    import functools

    from backends.errors import BackendError

    scripted_engines["a"] = Script(tokens=["a"])
    scripted_engines["b"] = Script(tokens=["b"])
    config = tmp_path / "config.toml"
    config.write_text('[models."a"]\nn_ctx = 1024\n')
    reread = functools.partial(load_settings, config)
    manager = ModelManager(reread(), recents_path=tmp_path / "r.json", reread_settings=reread)
    manager.switch(scripted_spec("a"))
    config.write_text('[models."a"]\nn_ctx = 8192\n')
    manager.switch(scripted_spec("a"))
    assert [o.n_ctx for o in scripted_engines["a"].load_options] == [1024, 8192]
    config.write_text('[models."a"]\nn_ctx = "big"\n')
    with pytest.raises(BackendError, match="settings file cannot be read") as raised:
        manager.switch(scripted_spec("b"))
    assert "n_ctx" in raised.value.message
    assert manager.spec.key == "a"  # type: ignore[union-attr]


def test_recents_survive_a_restart_newest_first_at_most_nine(
    scripted_engines: dict[str, Script], tmp_path: Path
) -> None:
    path = tmp_path / "recent.json"
    manager = ModelManager(load_settings(), recents_path=path)
    for i in range(11):
        scripted_engines[f"m{i}"] = Script(tokens=[])
        manager.switch(scripted_spec(f"m{i}"))
    manager.switch(scripted_spec("m3"))
    again = ModelManager(load_settings(), recents_path=path)
    keys = [s.key for s in again.recents()]
    assert keys[:3] == ["m3", "m10", "m9"] and len(keys) == 9
    assert len(set(keys)) == 9


def test_unreadable_recents_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "recent.json"
    path.write_text("{not json")
    assert ModelManager(load_settings(), recents_path=path).recents() == []


def test_a_load_is_recorded_as_the_models_last_use(
    scripted_engines: dict[str, Script], tmp_path: Path
) -> None:
    """The cache screen's "Last used" comes from this record, not from file atimes."""
    from dataclasses import replace

    from backends.models.usage import read_usage

    scripted_engines["a"] = Script(tokens=[])
    snapshot = tmp_path / "models--acme--m" / "snapshots" / ("c" * 40)
    spec = replace(
        scripted_spec("a"), path=str(snapshot / "m.gguf"), repo_id="acme/m", source="hf-cache"
    )
    manager = ModelManager(load_settings(), recents_path=tmp_path / "recent.json")
    manager.switch(spec)
    usage = read_usage(tmp_path / "model_usage.json")
    assert set(usage) == {"hf:acme/m", f"hf:acme/m@{'c' * 40}", f"path:{snapshot / 'm.gguf'}"}
