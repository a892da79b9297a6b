"""What loading a transformers model reads besides its weights: the runtime (torch and
transformers, imported late), the model's local folder (never the Hub) and PEFT adapters.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from backends.base import ModelSpec
from backends.errors import ModelNotFound, UnsupportedModel
from backends.registry import missing_runtime


def import_runtime() -> None:
    """torch and transformers, imported and told to log through `logging`; MissingDependency
    naming the extra when they are not installed."""
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError as error:
        raise missing_runtime("transformers", "torch and transformers") from error
    # tqdm bars ("Loading weights") would write onto the terminal Textual draws on, and
    # transformers' own stderr handler would bypass the app's log file: use `logging`.
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_default_handler()
    transformers.utils.logging.enable_propagation()


def resolve_model_dir(spec: ModelSpec) -> Path:
    """The local directory holding the model; ModelNotFound if there is none."""
    if spec.path:
        path = Path(spec.path).expanduser()
        if not path.is_dir():
            raise ModelNotFound(
                f"The model folder {path} does not exist. It may have been moved or "
                "deleted; pick another model or download it again."
            )
        if not (path / "config.json").is_file():
            raise ModelNotFound(
                f"{path} has no config.json, so it is not a transformers model folder. "
                "Pick the folder that holds config.json and the weights."
            )
        return path
    if spec.repo_id:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            return Path(snapshot_download(spec.repo_id, local_files_only=True))
        except LocalEntryNotFoundError:
            raise ModelNotFound(
                f"{spec.repo_id} is not downloaded yet. Download it from the Hub screen, "
                "then load it."
            ) from None
    raise ModelNotFound(f"{spec.name} has neither a local folder nor a repo id to load from.")


def apply_adapters(model: Any, adapters: Sequence[str], quantized: bool) -> Any:
    """`model` with each PEFT adapter folder applied in turn (merged, unless the base is
    quantized); ModelNotFound / UnsupportedModel for an adapter that is missing or does not fit."""
    try:
        from peft import PeftModel
    except ImportError as error:
        raise missing_runtime("transformers", "peft") from error
    for adapter in adapters:
        adapter_path = Path(adapter).expanduser()
        if not (adapter_path / "adapter_config.json").is_file():
            raise ModelNotFound(
                f"The adapter folder {adapter_path} has no adapter_config.json. Pick a "
                "folder saved by PEFT (it holds adapter_config.json and the weights)."
            )
        try:
            with warnings.catch_warnings():  # peft trips a transformers FutureWarning
                warnings.simplefilter("ignore", FutureWarning)
                peft_model = PeftModel.from_pretrained(model, adapter_path, local_files_only=True)
        except (ValueError, KeyError, RuntimeError) as error:
            raise UnsupportedModel(
                f"The adapter {adapter_path.name} does not fit this model ({error}). "
                "Use an adapter trained for this base model."
            ) from error
        # Merged weights generate faster; a quantized base keeps the adapter separate.
        model = peft_model if quantized else peft_model.merge_and_unload()
    return model
