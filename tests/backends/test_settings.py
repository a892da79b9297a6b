from __future__ import annotations

from pathlib import Path

import pytest

from backends.settings import SettingsError, load_settings


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
    assert settings.keymap["chat.pick_model"] == "alt+m"
    options = settings.load_options_for("hf:Qwen/Qwen2.5-0.5B-Instruct")
    assert options.dtype == "bfloat16" and options.trust_remote_code is False


def test_env_vars_reach_nested_fields_and_take_json_for_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[sampling]\ntop_p = 0.5\ntemperature = 0.9\n")
    monkeypatch.setenv("LOCALAI_TUI_SAMPLING__TEMPERATURE", "0.2")
    monkeypatch.setenv("localai_tui_offline", "yes")  # the usual words for true and false
    monkeypatch.setenv("LOCALAI_TUI_SERVERS", '[{"name": "a", "base_url": "http://a:1/v1"}]')
    monkeypatch.setenv("LOCALAI_TUI_DATA_DIR", str(tmp_path))  # not a field: ignored
    settings = load_settings(config, sampling={"seed": 3})
    params = settings.sampling.to_params()
    assert (params.temperature, params.top_p, params.seed) == (0.2, 0.5, 3)  # merged per table
    assert settings.offline is True
    assert [s.name for s in settings.servers] == ["a"]


def test_invalid_values_name_the_field_and_the_value(tmp_path: Path) -> None:
    from backends.settings import SettingsError

    config = tmp_path / "config.toml"
    config.write_text(
        "theme = 3\n[sampling]\ntemperature = 'hot'\nmax_new_tokens = 0\n"
        '[[servers]]\nname = "x"\n[models."gguf:/m.gguf"]\nn_ctx = 100\n'
    )
    with pytest.raises(SettingsError) as error:
        load_settings(config)
    lines = str(error.value).splitlines()
    assert lines[0] == f"5 problems in {config}:"
    assert set(lines[1:]) == {
        "  servers[0]: missing the required field `base_url`",
        "  sampling.temperature = 'hot': expected a number",
        "  sampling.max_new_tokens = 0: expected a whole number >= 1",
        '  models."gguf:/m.gguf".n_ctx = 100: expected a whole number >= 256',
        "  theme = 3: expected text in quotes",
    }


def test_a_bad_environment_variable_is_named_with_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backends.settings import SettingsError

    monkeypatch.setenv("LOCALAI_TUI_SPEECH__BEAM_SIZE", "50")
    with pytest.raises(SettingsError) as error:
        load_settings(tmp_path / "absent.toml")
    assert str(error.value).splitlines()[1] == (
        "  speech.beam_size = '50': expected a whole number <= 20 "
        "(set by LOCALAI_TUI_SPEECH__BEAM_SIZE)"
    )
    monkeypatch.delenv("LOCALAI_TUI_SPEECH__BEAM_SIZE")
    monkeypatch.setenv("LOCALAI_TUI_MODEL_DIRS", "~/models")  # a list wants JSON
    with pytest.raises(SettingsError) as error:
        load_settings(tmp_path / "absent.toml")
    assert "model_dirs = '~/models': must be JSON" in str(error.value)
    assert "(set by LOCALAI_TUI_MODEL_DIRS)" in str(error.value)


def test_a_server_key_is_never_shown(tmp_path: Path) -> None:
    """Settings and their errors may be logged or shown: a key stays out of both."""
    from backends.settings import SettingsError

    config = tmp_path / "config.toml"
    config.write_text('[[servers]]\nname = "box"\nbase_url = "http://box/v1"\napi_key = 12345\n')
    with pytest.raises(SettingsError) as error:
        load_settings(config)
    assert "servers[0].api_key = (hidden): expected text in quotes" in str(error.value)
    assert "12345" not in str(error.value)
    config.write_text('[[servers]]\nname = "box"\nbase_url = "http://box/v1"\napi_key = "sk-1"\n')
    settings = load_settings(config)
    assert settings.servers[0].api_key == "sk-1"
    assert "sk-1" not in repr(settings)


def test_a_file_that_is_not_toml_is_reported_with_its_line(tmp_path: Path) -> None:
    from backends.settings import SettingsError

    config = tmp_path / "config.toml"
    config.write_text('theme = "nord"\nsystem_prompt = unquoted words\n')
    with pytest.raises(SettingsError) as error:
        load_settings(config)
    assert f"1 problem in {config}:\n  not valid TOML: " in str(error.value)
    assert "line 2" in str(error.value)


def test_paths_and_tables_given_in_code_are_taken_as_they_are(tmp_path: Path) -> None:
    from backends.settings import SamplingDefaults, ServerEntry

    settings = load_settings(
        tmp_path / "absent.toml",
        model_dirs=[tmp_path, "~/models"],
        sampling=SamplingDefaults(top_k=3),
        servers=[ServerEntry(name="a", base_url="http://a/v1")],
    )
    assert settings.model_dirs == [tmp_path, Path("~/models")]
    assert settings.sampling.top_k == 3 and settings.servers[0].name == "a"


def test_sampling_values_typed_in_the_panel_are_coerced_and_checked() -> None:
    from backends.settings import SamplingDefaults, SettingsError, validated

    values = {"temperature": "0.3", "top_k": "5", "seed": None}
    params = validated(SamplingDefaults, values).to_params()
    assert (params.temperature, params.top_k, params.seed) == (0.3, 5, None)
    with pytest.raises(SettingsError) as error:
        validated(SamplingDefaults, {"top_k": "2.5"})
    problem = error.value.problems[0]
    assert (problem.loc, problem.value, problem.message) == (
        ("top_k",),
        "2.5",
        "expected a whole number",
    )


def test_every_settings_field_has_a_docstring() -> None:
    """The docstring under a field is its documentation (style.md: a docstring on every field)."""
    import ast

    import backends.settings as module

    tree = ast.parse(Path(module.__file__).read_text())
    missing = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        body = node.body
        for index, statement in enumerate(body):
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                after = body[index + 1] if index + 1 < len(body) else None
                documented = isinstance(after, ast.Expr) and isinstance(
                    getattr(after, "value", None), ast.Constant
                )
                if not documented:
                    missing.append(f"{node.name}.{statement.target.id}")
    assert missing == []


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


def test_a_misspelt_setting_stops_the_start_naming_it_and_the_likely_one(tmp_path: Path) -> None:
    """`top_pp = 1` under [sampling] was ignored without a word: the user's value never took."""
    config = tmp_path / "config.toml"
    config.write_text('temprature = 0.3\n[sampling]\ntop_pp = 1\n[images]\nrenderer = "kitty"\n')
    with pytest.raises(SettingsError) as raised:
        load_settings(config)
    text = str(raised.value)
    assert "sampling.top_pp = 1: not a setting here; did you mean top_p?" in text
    assert "temprature = 0.3: not a setting here" in text
    assert "2 problems" in text
