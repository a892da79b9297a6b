"""Where and how a transformers model is loaded: device, dtype, quantisation, errors.

Kept apart from the engine so the rules (CUDA-only bitsandbytes, auto device order,
what a load failure means for the user) read in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.base import LoadOptions
from backends.errors import (
    BackendError,
    CorruptModel,
    MissingDependency,
    ModelNotFound,
    OutOfMemory,
    UnsupportedModel,
    UnsupportedOption,
)


@dataclass(frozen=True)
class Placement:
    device: str  # "cuda", "mps" or "cpu"
    dtype: Any  # a torch.dtype
    device_map: str | dict[str, str] | None
    move_to: str | None  # a device to move to after loading (mps has no device_map)
    quantization_config: Any = None
    quantized: bool = False


def pick_device(requested: str) -> str:
    """auto -> cuda, then mps, then cpu; a device that is not here -> UnsupportedOption."""
    import torch

    has_cuda = torch.cuda.is_available()
    has_mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if requested == "auto":
        return "cuda" if has_cuda else "mps" if has_mps else "cpu"
    if requested == "cuda" and not has_cuda:
        raise UnsupportedOption(
            "Device 'cuda' was asked for, but PyTorch sees no NVIDIA GPU here (or it is a "
            "CPU-only build of torch). Choose device 'auto' or 'cpu'."
        )
    if requested == "mps" and not has_mps:
        raise UnsupportedOption(
            "Device 'mps' (Apple GPU) is not available on this machine. Choose device "
            "'auto' or 'cpu'."
        )
    return requested


def pick_dtype(requested: str, device: str) -> Any:
    """auto -> bfloat16 on GPUs that have it, float16 on other GPUs, float32 on CPU."""
    import torch

    if requested != "auto":
        return getattr(torch, requested)
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def plan_placement(options: LoadOptions) -> Placement:
    """Decide device, dtype and quantisation; raise before any weights are read."""
    import torch

    device = pick_device(options.device)
    dtype = pick_dtype(options.dtype, device)
    quantization_config = None
    if options.quantization != "none":
        if device != "cuda":
            raise UnsupportedOption(
                f"Quantization '{options.quantization}' uses bitsandbytes, which needs an "
                "NVIDIA GPU with CUDA; choose quantization 'none' or use a GGUF quant with "
                "llama.cpp."
            )
        try:
            import bitsandbytes  # noqa: F401
            from transformers import BitsAndBytesConfig
        except ImportError as error:
            raise MissingDependency(
                f"Quantization '{options.quantization}' needs bitsandbytes, which is not "
                "installed. Install it with: pip install bitsandbytes"
            ) from error
        if options.quantization == "int8":
            quantization_config = BitsAndBytesConfig(load_in_8bit=True)
        else:
            quantization_config = BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4" if options.quantization == "nf4" else "fp4",
                bnb_4bit_compute_dtype=dtype,
            )
    device_map: str | dict[str, str] | None = None
    move_to: str | None = None
    if device == "cuda":
        device_map = "auto" if torch.cuda.device_count() > 1 else {"": "cuda:0"}
    elif device == "mps":
        move_to = "mps"
    return Placement(
        device=device,
        dtype=dtype,
        device_map=device_map,
        move_to=move_to,
        quantization_config=quantization_config,
        quantized=quantization_config is not None,
    )


def model_load_kwargs(placement: Placement) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"dtype": placement.dtype}
    if placement.device_map is not None:
        kwargs["device_map"] = placement.device_map
    if placement.quantization_config is not None:
        kwargs["quantization_config"] = placement.quantization_config
    return kwargs


def out_of_memory(error: BaseException) -> OutOfMemory:
    return OutOfMemory(
        "There is not enough memory for this model. Close other programs, choose a smaller "
        "dtype or quantization, or pick a smaller model."
    )


def _architecture(model_dir: Path) -> str:
    import json

    try:
        config = json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError):
        return "unknown"
    names = config.get("architectures") or [config.get("model_type") or "unknown"]
    return str(names[0])


def translate_load_error(error: Exception, model_dir: Path, options: LoadOptions) -> BackendError:
    """What a failed `from_pretrained` means for the user."""
    if isinstance(error, BackendError):
        return error
    text = str(error)
    lowered = text.lower()
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return out_of_memory(error)
    if "trust_remote_code" in text or "contains custom code" in lowered:
        return UnsupportedModel(
            f"{model_dir.name} ({_architecture(model_dir)}) needs code shipped in its own "
            "repository to run. Turn on 'trust remote code' for this model only if you "
            "trust its authors; that code runs on your machine."
        )
    if "does not recognize this architecture" in lowered or "unrecognized" in lowered:
        return UnsupportedModel(
            f"This version of transformers does not know the architecture "
            f"'{_architecture(model_dir)}'. Upgrade transformers (pip install -U "
            "transformers) or pick a GGUF of this model for llama.cpp."
        )
    if (
        type(error).__name__ == "SafetensorError"
        or "deserializ" in lowered
        or ("header" in lowered and "safetensors" in lowered)
    ):
        return CorruptModel(
            f"The weights in {model_dir.name} are damaged or incomplete ({text}). "
            "Download the model again."
        )
    if isinstance(error, OSError) and ("no file named" in lowered or "does not appear" in lowered):
        return ModelNotFound(
            f"{model_dir.name} has no weights file (.safetensors or .bin). Download the "
            "model again or pick another folder."
        )
    if isinstance(error, (OSError, ValueError, RuntimeError, KeyError)):
        first_line = text.splitlines()[0] if text else repr(error)
        return CorruptModel(
            f"transformers could not load {model_dir.name}: {first_line}. "
            "The files may be incomplete; download the model again."
        )
    return BackendError(f"Loading {model_dir.name} failed: {error!r}.", title="Load failed")
