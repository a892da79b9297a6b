"""The last image model is remembered across runs; a server's key never goes to the file."""

from __future__ import annotations

from pathlib import Path

from backends.base import ModelSpec, ServerConfig
from backends.image.session import LAST_MODEL_FILE, last_model, remember_model
from backends.paths import data_dir
from backends.settings import ServerEntry, load_settings


def test_a_local_model_comes_back_as_it_was() -> None:
    spec = ModelSpec(key="sd", name="tiny-sd", engine="diffusers", path="/models/sd")

    remember_model(spec)

    assert last_model(load_settings()) == spec


def test_a_server_model_comes_back_with_its_key_from_the_settings_not_the_file() -> None:
    server = ServerConfig(name="forge", base_url="http://gpu:7860", api_key="s3cret", kind="a1111")
    spec = ModelSpec(key="forge:sdxl", name="sdxl", engine="a1111", server=server)
    settings = load_settings()
    settings.servers = [
        ServerEntry(name="forge", base_url="http://gpu:7860", api_key="s3cret", kind="a1111")
    ]

    remember_model(spec)

    assert "s3cret" not in (data_dir() / LAST_MODEL_FILE).read_text()
    back = last_model(settings)
    assert back is not None and back.server is not None
    assert (back.name, back.server.api_key, back.server.kind) == ("sdxl", "s3cret", "a1111")


def test_nothing_remembered_or_a_damaged_file_means_none(tmp_path: Path) -> None:
    assert last_model(load_settings()) is None
    (data_dir() / LAST_MODEL_FILE).parent.mkdir(parents=True, exist_ok=True)
    (data_dir() / LAST_MODEL_FILE).write_text("{not json")
    assert last_model(load_settings()) is None
