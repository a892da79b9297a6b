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


def test_env_vars_reach_nested_fields_and_take_json_for_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[sampling]\ntop_p = 0.5\ntemperature = 0.9\n")
    monkeypatch.setenv("LOCALAI_TUI_SAMPLING__TEMPERATURE", "0.2")
    monkeypatch.setenv("localai_tui_offline", "yes")
    monkeypatch.setenv("LOCALAI_TUI_SERVERS", '[{"name": "a", "base_url": "http://a:1/v1"}]')
    monkeypatch.setenv("LOCALAI_TUI_DATA_DIR", str(tmp_path))  # not a field: ignored
    settings = load_settings(config, sampling={"seed": 3})
    params = settings.sampling.to_params()
    assert (params.temperature, params.top_p, params.seed) == (0.2, 0.5, 3)  # merged per table
    assert settings.offline is True
    assert [s.name for s in settings.servers] == ["a"]


def test_invalid_values_name_the_field_and_the_value(tmp_path: Path) -> None:
    from backends.settings_model import ValidationError

    config = tmp_path / "config.toml"
    config.write_text(
        "theme = 3\n[sampling]\ntemperature = 'hot'\nmax_new_tokens = 0\n"
        '[[servers]]\nname = "x"\n'
    )
    with pytest.raises(ValidationError) as error:
        load_settings(config)
    text = str(error.value)
    assert text.startswith("4 validation errors for Settings")
    assert "sampling.temperature\n  Input should be a valid number, got 'hot'" in text
    assert "sampling.max_new_tokens\n  Input should be greater than or equal to 1, got 0" in text
    assert "servers.0.base_url\n  Field required" in text
    assert "theme\n  Input should be a valid string, got 3" in text


def test_sampling_values_typed_in_the_panel_are_coerced_and_checked() -> None:
    from backends.settings import SamplingDefaults
    from backends.settings_model import ValidationError

    params = SamplingDefaults(temperature="0.3", top_k="5", seed=None).to_params()  # type: ignore[arg-type]
    assert (params.temperature, params.top_k, params.seed) == (0.3, 5, None)
    with pytest.raises(ValidationError) as error:
        SamplingDefaults(top_k="2.5")  # type: ignore[arg-type]
    assert error.value.errors()[0]["loc"] == ("top_k",)


def test_reading_settings_imports_no_pydantic() -> None:
    """pydantic + pydantic-settings cost 0.12-0.28 s before the first frame (bench/startup.py)."""
    import subprocess
    import sys

    code = (
        "import sys; from backends.settings import load_settings; load_settings(); "
        "print(sorted(m for m in sys.modules if m.startswith('pydantic')))"
    )
    root = Path(__file__).parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert result.stdout.strip() == "[]"
