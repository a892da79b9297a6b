"""Test-wide environment, set before anything imports huggingface_hub (it reads env at import).

Nothing here reaches the network: HF_ENDPOINT points at a closed local port unless a test
starts the local Hub server, and every test gets its own config and data dirs.
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="localai-tui-tests-"))
os.environ["HF_HOME"] = str(_SESSION_DIR / "hf-home")
os.environ.pop("HF_HUB_CACHE", None)
os.environ.pop("HF_TOKEN", None)
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"  # closed port: accidental Hub calls fail fast
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["LOCALAI_TUI_CONFIG"] = str(_SESSION_DIR / "config.toml")
os.environ["LOCALAI_TUI_DATA_DIR"] = str(_SESSION_DIR / "data")

pytest_plugins = [
    "tests.fixtures.models",
    "tests.fixtures.image_models",
    "tests.fixtures.openai_server",
    "tests.fixtures.hub_server",
    "tests.fixtures.speech",
    "tests.fixtures.tts",
    "tests.fixtures.vision",
    "tests.fixtures.tasks",
    "tests.fixtures.a1111_server",
    "tests.fixtures.comfyui_server",
    "tests.fixtures.openai_media_server",
]


@pytest.fixture(autouse=True)
def _no_spare_engine_hosts() -> Iterator[None]:
    """No pre-started spare host processes unless a test asks (`spare_hosts`): every test
    has its own data dir, so a spare warmed in one never fits the next, and starting
    spares (importing torch, 3 s) would only burn the CPU other tests need."""
    from backends.host.spawn import set_keep_spare

    set_keep_spare(False)
    yield


@pytest.fixture
def spare_hosts() -> Iterator[None]:
    """Spare host processes on, as in the app (off again after the test)."""
    from backends.host.spawn import set_keep_spare

    set_keep_spare(True)
    yield
    set_keep_spare(False)


@pytest.fixture(autouse=True)
def _collector_unfrozen_after_each_test() -> Iterator[None]:
    """An app frees its start-up objects from the garbage collector (`gc.freeze()`, for the
    life of the process): in a test session that would keep every finished app's widgets
    for good, so each test gives them back to the collector."""
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own config file and data dir, so no state leaks between tests."""
    monkeypatch.setenv("LOCALAI_TUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("LOCALAI_TUI_DATA_DIR", str(tmp_path / "data"))
    for name in list(os.environ):
        if name.startswith("LOCALAI_TUI_") and name not in (
            "LOCALAI_TUI_CONFIG",
            "LOCALAI_TUI_DATA_DIR",
        ):
            monkeypatch.delenv(name)
