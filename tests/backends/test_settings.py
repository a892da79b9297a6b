from __future__ import annotations

from pathlib import Path

import pytest

from backends.settings import load_settings


def test_toml_then_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'system_prompt = "Be brief."\ntheme = "nord"\n'
        '[[servers]]\nname = "box"\nbase_url = "http://box:8000/v1"\n'
        '[models."gguf:/m.gguf"]\nn_ctx = 2048\n'
    )
    monkeypatch.setenv("LOCALAI_TUI_THEME", "gruvbox")
    settings = load_settings(config)
    assert settings.system_prompt == "Be brief."
    assert settings.theme == "gruvbox"
    assert settings.servers[0].to_config().base_url == "http://box:8000/v1"
    assert settings.load_options_for("gguf:/m.gguf").n_ctx == 2048
    assert settings.load_options_for("other").trust_remote_code is False


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml")
    assert settings.sampling.to_params().max_new_tokens == 512
    assert settings.servers == []


def test_readme_config_example_is_valid(tmp_path: Path) -> None:
    """The TOML shown in the README must load, so users can copy it as is."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "config.toml"
    config.write_text(example)
    settings = load_settings(config)
    assert settings.servers[0].name == "gpu-box"
    assert settings.keymap["chat.pick_model"] == "f6"
    options = settings.load_options_for("hf:Qwen/Qwen2.5-0.5B-Instruct")
    assert options.dtype == "bfloat16" and options.trust_remote_code is False
