"""transformers engine specifics: placement rules, remote code, adapters, load errors."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

from backends.base import (
    ChatMessage,
    GenerationParams,
    LoadOptions,
    LoadProgress,
    ModelSpec,
    Notice,
    StreamFinished,
    TextDelta,
)
from backends.errors import (
    CorruptModel,
    LoadCancelled,
    ModelNotFound,
    UnsupportedModel,
    UnsupportedOption,
)

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from backends.chat.transformers import TransformersEngine  # noqa: E402

GREEDY = GenerationParams(max_new_tokens=16, temperature=0.0)
HELLO = [ChatMessage("user", "Hello")]


def _spec(path: Path) -> ModelSpec:
    return ModelSpec(key=f"path:{path}", name=path.name, engine="transformers", path=str(path))


def _answer(engine: TransformersEngine, params: GenerationParams = GREEDY) -> str:
    return "".join(e.text for e in engine.stream(HELLO, params) if isinstance(e, TextDelta))


def _copy_with_config(source: Path, target: Path, **changes: Any) -> Path:
    shutil.copytree(source, target)
    config = json.loads((target / "config.json").read_text())
    config.update(changes)
    (target / "config.json").write_text(json.dumps(config))
    return target


@pytest.fixture(scope="module")
def lora_adapter_dir(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA on q/v projections with random (non-zero) weights, so it changes answers."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir, local_files_only=True)
    torch.manual_seed(0)
    config = LoraConfig(
        r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    adapter_dir = tmp_path_factory.mktemp("tiny-lora")
    with warnings.catch_warnings():  # peft trips a transformers FutureWarning
        warnings.simplefilter("ignore", FutureWarning)
        get_peft_model(base, config).save_pretrained(adapter_dir)
    return adapter_dir


def test_progress_reports_each_stage_and_footprint_counts_weights(tiny_llama_dir: Path) -> None:
    stages: list[str] = []
    engine = TransformersEngine()
    engine.load(_spec(tiny_llama_dir), LoadOptions(), progress=lambda p: stages.append(p.message))
    footprint = engine.memory_footprint()
    params = sum(p.numel() * p.element_size() for p in engine._model.parameters())  # type: ignore[union-attr]
    engine.unload()

    assert stages[:2] == ["Loading tokenizer", "Loading weights"]
    assert stages[-1] == "Ready"
    assert footprint.ram_bytes >= params > 0
    assert footprint.vram_bytes == 0


def test_lora_adapter_changes_the_answer(tiny_llama_dir: Path, lora_adapter_dir: Path) -> None:
    engine = TransformersEngine()
    engine.load(_spec(tiny_llama_dir), LoadOptions())
    base_answer = _answer(engine)
    stages: list[str] = []
    engine.load(
        _spec(tiny_llama_dir),
        LoadOptions(adapters=(str(lora_adapter_dir),)),
        progress=lambda p: stages.append(p.message),
    )
    adapted_answer = _answer(engine)
    engine.unload()

    assert "Applying adapters" in stages
    assert base_answer and adapted_answer
    assert adapted_answer != base_answer


def test_missing_adapter_is_named(tiny_llama_dir: Path, tmp_path: Path) -> None:
    engine = TransformersEngine()
    with pytest.raises(ModelNotFound, match="adapter_config.json"):
        engine.load(_spec(tiny_llama_dir), LoadOptions(adapters=(str(tmp_path / "nope"),)))
    assert not engine.loaded


def test_int4_without_cuda_is_refused_before_loading(tiny_llama_dir: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(UnsupportedOption) as raised:
        TransformersEngine().load(_spec(tiny_llama_dir), LoadOptions(quantization="int4"))
    assert "needs an NVIDIA GPU with CUDA" in raised.value.message
    assert "GGUF" in raised.value.message


def test_cuda_device_without_cuda_is_refused(tiny_llama_dir: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(UnsupportedOption, match="no NVIDIA GPU"):
        TransformersEngine().load(_spec(tiny_llama_dir), LoadOptions(device="cuda"))


def test_folder_without_config_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ModelNotFound, match="config.json"):
        TransformersEngine().load(_spec(tmp_path), LoadOptions())


def test_unknown_architecture_is_named(tiny_llama_dir: Path, tmp_path: Path) -> None:
    model_dir = _copy_with_config(
        tiny_llama_dir, tmp_path / "frob", model_type="frobnicator",
        architectures=["FrobForCausalLM"],
    )  # fmt: skip
    with pytest.raises(UnsupportedModel) as raised:
        TransformersEngine().load(_spec(model_dir), LoadOptions())
    assert "FrobForCausalLM" in raised.value.message
    assert "trust remote code" not in raised.value.message


def test_remote_code_is_not_run_unless_trusted(tiny_llama_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "remote-code-ran"
    model_dir = _copy_with_config(
        tiny_llama_dir, tmp_path / "custom", model_type="frob_custom",
        architectures=["FrobForCausalLM"],
        auto_map={"AutoConfig": "frob.FrobConfig", "AutoModelForCausalLM": "frob.FrobModel"},
    )  # fmt: skip
    (model_dir / "frob.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")

    with pytest.raises(UnsupportedModel) as raised:
        TransformersEngine().load(_spec(model_dir), LoadOptions())

    assert "trust remote code" in raised.value.message
    assert not marker.exists()


def test_trust_remote_code_is_passed_only_when_set(
    tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transformers

    seen: list[Any] = []
    real_model = transformers.AutoModelForCausalLM.from_pretrained
    real_tokenizer = transformers.AutoTokenizer.from_pretrained

    def spy(real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen.append((kwargs.get("trust_remote_code"), kwargs.get("local_files_only")))
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", spy(real_model))
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", spy(real_tokenizer))
    engine = TransformersEngine()

    engine.load(_spec(tiny_llama_dir), LoadOptions())
    assert seen == [(False, True), (False, True)]
    seen.clear()
    engine.load(_spec(tiny_llama_dir), LoadOptions(trust_remote_code=True))
    assert seen == [(True, True), (True, True)]
    engine.unload()


def test_damaged_weights_are_reported(tiny_llama_dir: Path, tmp_path: Path) -> None:
    model_dir = _copy_with_config(tiny_llama_dir, tmp_path / "damaged")
    with (model_dir / "model.safetensors").open("r+b") as weights:
        weights.truncate(1000)

    with pytest.raises(CorruptModel, match="Download the model again"):
        TransformersEngine().load(_spec(model_dir), LoadOptions())


def test_model_without_template_gets_transcript_and_a_notice(tiny_llama_base_dir: Path) -> None:
    engine = TransformersEngine()
    engine.load(_spec(tiny_llama_base_dir), LoadOptions())
    assert engine.capabilities.chat_template is False  # the header marks the mode
    events = list(engine.stream(HELLO, GenerationParams(max_new_tokens=4, seed=0)))
    engine.unload()

    assert isinstance(events[0], Notice) and "no chat template" in events[0].text
    assert isinstance(events[-1], StreamFinished) and events[-1].completion_tokens == 4


def test_cancel_during_load_unloads(tiny_llama_dir: Path) -> None:
    engine = TransformersEngine()
    cancel = threading.Event()

    def cancel_at_weights(progress: LoadProgress) -> None:
        if progress.message == "Loading weights":
            cancel.set()

    with pytest.raises(LoadCancelled):
        engine.load(_spec(tiny_llama_dir), LoadOptions(), progress=cancel_at_weights,
                    cancel=cancel)  # fmt: skip
    assert not engine.loaded


def test_abandoned_stream_frees_the_engine_for_the_next_one(tiny_llama_dir: Path) -> None:
    engine = TransformersEngine()
    engine.load(_spec(tiny_llama_dir), LoadOptions())
    stream = engine.stream(HELLO, GenerationParams(max_new_tokens=200, seed=1))
    next(e for e in stream if isinstance(e, TextDelta))
    stream.close()  # the reader walks away mid-answer: generation must stop

    events = list(engine.stream(HELLO, GenerationParams(max_new_tokens=5, seed=1)))
    engine.unload()

    assert isinstance(events[-1], StreamFinished) and events[-1].completion_tokens == 5


def test_streamed_pieces_join_to_the_decoded_answer(tiny_llama_dir: Path) -> None:
    from transformers import AutoTokenizer

    from backends.chat.transformers_streamer import TokenStreamer

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir, local_files_only=True)
    sentence = "The model streams short words, then «stops» again.\nHello, world!"
    ids = tokenizer(sentence)["input_ids"]
    streamer = TokenStreamer(tokenizer, eos_ids={tokenizer.eos_token_id})
    streamer.put(torch.tensor([[1, 2]]))  # generate hands over the prompt first
    for token in ids:
        streamer.put(torch.tensor([token]))
    streamer.end()

    pieces = list(streamer)
    assert "".join(pieces) == tokenizer.decode(ids) == sentence
    assert all("\ufffd" not in piece for piece in pieces)
    assert streamer.generated == len(ids)


def test_repo_id_loads_from_the_hf_cache_and_never_the_hub(tiny_llama_dir: Path) -> None:
    from huggingface_hub import constants

    repo = Path(constants.HF_HUB_CACHE) / "models--tiny-org--tiny-llama"
    commit = "0" * 40
    shutil.copytree(tiny_llama_dir, repo / "snapshots" / commit, dirs_exist_ok=True)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    spec = ModelSpec(key="hf:tiny-org/tiny-llama", name="tiny", engine="transformers",
                     repo_id="tiny-org/tiny-llama", source="hf-cache")  # fmt: skip
    engine = TransformersEngine()

    try:
        engine.load(spec, LoadOptions())
        assert engine.loaded
        engine.unload()
        with pytest.raises(ModelNotFound, match="not downloaded yet"):
            engine.load(dataclasses.replace(spec, repo_id="tiny-org/absent"), LoadOptions())
    finally:
        shutil.rmtree(repo)  # the session's HF cache is shared: later tests must not see it


def test_unload_drops_the_last_reference_to_the_model(tiny_llama_dir: Path) -> None:
    import weakref

    engine = TransformersEngine()
    engine.load(_spec(tiny_llama_dir), LoadOptions())
    model = weakref.ref(engine._model)  # type: ignore[arg-type]
    list(engine.stream(HELLO, GenerationParams(max_new_tokens=2)))

    engine.unload()

    assert model() is None


def test_memory_errors_become_out_of_memory(tmp_path: Path) -> None:
    from backends.chat.transformers_placement import translate_load_error
    from backends.errors import OutOfMemory

    error = translate_load_error(MemoryError(), tmp_path, LoadOptions())
    cuda_error = translate_load_error(torch.OutOfMemoryError("CUDA"), tmp_path, LoadOptions())

    assert isinstance(error, OutOfMemory) and isinstance(cuda_error, OutOfMemory)
    assert "smaller" in error.message


LONG = [ChatMessage("user", " ".join(["the quick brown fox jumps over the lazy dog"] * 12))]


def test_stop_takes_effect_during_a_long_prompt(tiny_llama_dir: Path) -> None:
    """Esc while a long prompt is read: the prompt is read in chunks and the stop lands
    between them, before any token (one forward pass over a 10 KB prompt is minutes on a
    large model); without a stop the answer is the same as reading it in one pass."""
    engine = TransformersEngine()
    engine.load(_spec(tiny_llama_dir), LoadOptions())
    model = engine._model
    assert model is not None
    whole = "".join(
        e.text for e in engine.stream(LONG, GREEDY) if isinstance(e, TextDelta)
    )  # no cancel event: one pass, as before
    chunked = "".join(
        e.text for e in engine.stream(LONG, GREEDY, threading.Event()) if isinstance(e, TextDelta)
    )
    assert chunked == whole

    cancel = threading.Event()
    passes: list[int] = []

    def press_escape_on_the_first_pass(_module: Any, inputs: Any, _output: Any) -> None:
        passes.append(int(inputs[0].shape[-1]))  # tokens read by this forward pass
        cancel.set()

    hook = model.get_input_embeddings().register_forward_hook(press_escape_on_the_first_pass)
    events = list(engine.stream(LONG, GREEDY, cancel))
    hook.remove()
    engine.unload()
    finish = events[-1]
    assert isinstance(finish, StreamFinished)
    assert finish.finish_reason == "cancelled" and finish.completion_tokens == 0
    assert finish.prompt_tokens is not None and finish.prompt_tokens > 300
    assert len(passes) == 1 and passes[0] < finish.prompt_tokens / 4
