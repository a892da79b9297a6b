"""Finding and building a diffusers pipeline: the runtime import, the folder (a path or a
cached repo), the pipeline itself (a GGUF transformer placed in its base pipeline), its device
and memory savers, and the samplers it can use. The engine (diffusers_engine.py) runs it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from backends.errors import ModelNotFound
from backends.image.diffusers_errors import gguf_mismatch, pipeline_class
from backends.image.protocol import ImageLoadOptions
from backends.image.samplers import DIFFUSERS_SAMPLERS
from backends.registry import missing_runtime

log = logging.getLogger(__name__)


def import_runtime() -> None:
    # transformers first: importing diffusers imports it, and its own stderr handler would
    # print warnings (torchvision missing…) onto the terminal Textual draws on.
    try:
        import transformers

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.disable_default_handler()
        transformers.utils.logging.enable_propagation()
    except ImportError:
        pass
    try:
        import diffusers
        import torch  # noqa: F401
    except ImportError as error:
        raise missing_runtime("diffusers", "torch and diffusers") from error
    diffusers.utils.logging.disable_progress_bar()
    diffusers.utils.logging.disable_default_handler()
    diffusers.utils.logging.enable_propagation()


def warm_runtime() -> None:
    """Import what a first pipeline load imports, ahead of it (a warm spare host).

    `import diffusers` is lazy: the first `from_pretrained` in a process imported the
    auto-pipeline table, the pipeline, model and CLIP classes. Measured on this busy
    2-core box (load 7-9), tiny SD pipeline: load 5.3-5.6 s in a fresh process after
    `import_runtime()`, 0.3-0.5 s after these imports (which took 2.8-4.6 s themselves).
    """
    import_runtime()
    import diffusers.models.modeling_utils  # noqa: F401
    import diffusers.pipelines.auto_pipeline  # noqa: F401
    import diffusers.pipelines.pipeline_utils  # noqa: F401
    import transformers.modeling_utils  # noqa: F401
    from diffusers import (  # noqa: F401
        AutoencoderKL,
        AutoPipelineForText2Image,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTokenizer  # noqa: F401


def set_cpu_threads(requested: int | None) -> None:
    """One thread fewer than the cores by default (process-wide; an engine host is its own
    process). Measured on a busy 2-core machine (load 7-8), tiny SD pipeline at 64x64:
    2 threads 1300-1530 ms/step, 1 thread 84-93 ms/step: torch's OpenMP threads spin at
    every barrier while the other one waits for a core, the same collapse as llama.cpp."""
    import os

    import torch

    torch.set_num_threads(requested or max(1, (os.cpu_count() or 2) - 1))


def resolve_pipeline_dir(location: str, *, what: str = "The image model") -> Path:
    """A local diffusers folder (with model_index.json) from a path or a cached repo id."""
    path = Path(location).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise ModelNotFound(
                f"{path} has no model_index.json, so it is not a diffusers pipeline folder. "
                "Pick the folder that holds model_index.json (or a single .gguf/.safetensors "
                "file for stable-diffusion.cpp)."
            )
        return path
    if "/" in location and not location.startswith(("/", ".", "~")):
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            return Path(snapshot_download(location, local_files_only=True))
        except LocalEntryNotFoundError:
            raise ModelNotFound(
                f"{location} is not downloaded yet. Download it from the Hub screen (F3), "
                "then load it."
            ) from None
    raise ModelNotFound(
        f"{what} folder {path} does not exist. It may have been moved or deleted; pick "
        "another model."
    )


def usable_samplers(pipe: Any) -> dict[str, tuple[Any, dict[str, Any]]]:
    """The samplers this pipeline can use, by A1111 name: (scheduler class, config overrides).

    Only classes the pipeline's scheduler lists as compatible (stubs for missing extras out),
    and only those that survive two steps on a tiny tensor: some "compatible" classes fail
    every job (EDMEulerScheduler raised a TypeError on SD 1.5 configs)."""
    import diffusers

    compatible = {type(pipe.scheduler).__name__}
    for cls in getattr(pipe.scheduler, "compatibles", []) or []:
        if "dummy" not in cls.__module__:
            compatible.add(cls.__name__)
    found: dict[str, tuple[Any, dict[str, Any]]] = {}
    for name, (cls_name, extra) in DIFFUSERS_SAMPLERS.items():
        cls = getattr(diffusers, cls_name, None)
        if cls is not None and cls_name in compatible and _steps_cleanly(cls, pipe, extra):
            found[name] = (cls, extra)
    return found


def _steps_cleanly(cls: Any, pipe: Any, extra: dict[str, Any]) -> bool:
    import warnings

    import torch

    with warnings.catch_warnings():  # old schedulers warn about numpy 2 thousands of times
        warnings.simplefilter("ignore")
        return _probe(cls, pipe, extra, torch)


def _probe(cls: Any, pipe: Any, extra: dict[str, Any], torch: Any) -> bool:
    try:
        scheduler = cls.from_config(pipe.scheduler.config, **extra)
        scheduler.set_timesteps(4)
        sample = torch.zeros(1, 4, 8, 8)
        for timestep in scheduler.timesteps[:2]:
            scaled = scheduler.scale_model_input(sample, timestep)
            sample = scheduler.step(torch.zeros_like(scaled), timestep, sample).prev_sample
    except Exception as error:  # any failure here would fail every job: do not offer it
        log.info("sampler %s not offered: %s", cls.__name__, error)
        return False
    return True


def build_pipeline(folder: Path, gguf: str | None, dtype: Any) -> Any:
    """The text-to-image pipeline in `folder`, with the GGUF transformer in it when given."""
    import diffusers
    from diffusers import AutoPipelineForText2Image, DiffusionPipeline

    kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": True}
    # Components saved as [null, null] (an SD3 without T5, say) must be passed as None,
    # or from_pretrained says they are missing.
    index = json.loads((folder / "model_index.json").read_text())
    kwargs.update({k: None for k, v in index.items() if v == [None, None]})
    if gguf:
        kwargs["transformer"] = gguf_transformer(folder, Path(gguf), dtype)
    try:
        return AutoPipelineForText2Image.from_pretrained(str(folder), **kwargs)
    except ValueError as error:
        # Pipelines the auto classes do not map (community, newer) still load as
        # DiffusionPipeline when this diffusers has their class.
        known = hasattr(diffusers, pipeline_class(folder))
        if "can't find a pipeline" not in str(error) or not known:
            raise
    return DiffusionPipeline.from_pretrained(str(folder), **kwargs)


def gguf_transformer(folder: Path, gguf: Path, dtype: Any) -> Any:
    """The base pipeline's transformer class, loaded from a GGUF through from_single_file."""
    import diffusers
    from diffusers import GGUFQuantizationConfig

    if not gguf.is_file():
        raise ModelNotFound(f"No file at {gguf}. Check the path or download it again.")
    index = json.loads((folder / "model_index.json").read_text())
    entry = index.get("transformer")
    if not entry or not isinstance(entry, list) or entry[1] is None:
        raise gguf_mismatch(gguf, folder, "that pipeline has no transformer")
    model_class = getattr(diffusers, str(entry[1]), None)
    if model_class is None or not hasattr(model_class, "from_single_file"):
        raise gguf_mismatch(gguf, folder, f"{entry[1]} cannot load single files")
    try:
        return model_class.from_single_file(
            str(gguf),
            config=str(folder),
            subfolder="transformer",
            quantization_config=GGUFQuantizationConfig(compute_dtype=dtype),
            dtype=dtype,
            local_files_only=True,
        )
    except Exception as error:  # the converters fail with Index/Key/Value/RuntimeErrors
        if type(error).__name__ == "OutOfMemoryError" or isinstance(error, MemoryError):
            raise
        detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise gguf_mismatch(gguf, folder, detail) from error


def place_pipeline(pipe: Any, device: str, options: ImageLoadOptions) -> None:
    """Move to the device, or spread over CPU and GPU with a memory saver (CUDA only)."""
    if device == "cuda" and options.memory_saver == "offload":
        pipe.enable_model_cpu_offload()
    elif device == "cuda" and options.memory_saver == "sequential-offload":
        pipe.enable_sequential_cpu_offload()
    else:
        if options.memory_saver != "none":
            log.info("memory saver %s needs CUDA; ignored on %s", options.memory_saver, device)
        pipe.to(device)
    if device == "cuda" and options.vae_tiling and hasattr(pipe, "vae"):
        pipe.vae.enable_tiling()
