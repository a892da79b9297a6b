"""Images with stable-diffusion.cpp (`stable-diffusion-cpp-python`): GGUF and single-file
checkpoints on the CPU (SD 1.x/2.x, SDXL, SD3, FLUX, Z-Image: whatever the build knows).

The library has no way to stop a running generation: its progress callback is a C callback
(an exception raised there is printed and ignored). So `cancel` ends the stream at once
(GenerationCancelled, nothing returned), while the C call runs on to its end in its thread
and the engine takes the next request after it. In an engine host the process can simply be
ended instead. Files are checked before the library sees them: given a file that is not a
model it returns a null context, and freeing that later crashes the process.
"""

from __future__ import annotations

import json
import os
import queue
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from backends.base import ModelSpec, ProgressCallback
from backends.chat.lifecycle import LoadSteps, release_freed_memory
from backends.errors import (
    BackendError,
    CorruptModel,
    GenerationError,
    ModelNotFound,
    UnsupportedModel,
    UnsupportedOption,
)
from backends.image.lora_file import checked_lora
from backends.image.protocol import (
    GenerationCancelled,
    ImageCapabilities,
    ImageEvent,
    ImageLoadOptions,
    ImageRequest,
    ImageResult,
    ImageStep,
)
from backends.image.samplers import SDCPP_SAMPLERS, a1111_sampler
from backends.registry import missing_runtime

SIZE_MULTIPLE = 64


def _import_runtime() -> Any:
    try:
        import stable_diffusion_cpp
    except ImportError as error:
        raise missing_runtime("sdcpp", "stable-diffusion-cpp-python") from error
    return stable_diffusion_cpp


def check_model_file(path: Path) -> None:
    """Raise a clear error unless `path` looks like a whole GGUF, safetensors or ckpt file."""
    if not path.is_file():
        raise ModelNotFound(f"No file at {path}. It may have been moved or deleted.")
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if path.suffix.lower() == ".gguf":
            if head[:4] != b"GGUF":
                raise CorruptModel(f"{path.name} is not a GGUF file (no GGUF header).")
        elif path.suffix.lower() == ".safetensors":
            if len(head) < 8:
                raise CorruptModel(f"{path.name} is empty or cut short. Download it again.")
            (header_len,) = struct.unpack("<Q", head)
            if header_len <= 0 or 8 + header_len > size:
                raise CorruptModel(
                    f"{path.name} is cut short or not a safetensors file. Download it again."
                )
            try:
                header = json.loads(f.read(header_len))
            except ValueError:
                raise CorruptModel(
                    f"{path.name} has a damaged header. Download it again."
                ) from None
            ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
            if ends and 8 + header_len + max(ends) > size:
                have, need = size, 8 + header_len + max(ends)
                raise CorruptModel(
                    f"{path.name} is truncated ({have // 1_000_000} MB of {need // 1_000_000} "
                    "MB). Download it again."
                )
        elif path.suffix.lower() == ".ckpt":
            if head[:2] != b"PK":
                raise CorruptModel(f"{path.name} is not a PyTorch checkpoint (zip).")
        else:
            raise UnsupportedModel(
                f"stable-diffusion.cpp loads .gguf, .safetensors and .ckpt files, not "
                f"{path.suffix or 'files without an extension'}."
            )


def forget_progress_callback() -> None:
    """Clear the library's progress callback; call after each `generate_image`.

    The library keeps the callback of the last `generate_image` in a global, while the
    Python wrapper frees it when the call returns; the next model load in the process
    (another LoRA folder reopens the model) reports its progress to that freed callback
    and the process dies of SIGSEGV (in libffi; seen on the second load of a full-shape
    checkpoint after an image)."""
    try:
        from stable_diffusion_cpp import stable_diffusion_cpp as sd_cpp

        sd_cpp.sd_set_progress_callback(None, None)
    except (ImportError, AttributeError):  # another build of the wrapper: nothing to clear
        pass


def _plain_picture(image: Any) -> Any:
    """The library's picture as plain RGB pixels. It comes back RGBA (an alpha that is
    always opaque) with `info` holding the library's arguments and state, ctypes arrays
    among them: an engine host cannot pickle those, so the picture never reached the app."""
    plain = image.convert("RGB")
    plain.info = {}
    return plain


class StableDiffusionCppEngine:
    """An ImageEngine over stable-diffusion.cpp; one model at a time."""

    name: ClassVar[str] = "sdcpp"
    # Its C call cannot be interrupted: a hosted proxy ends the process on cancel instead.
    stops_on_cancel: ClassVar[bool] = False

    def __init__(self) -> None:
        self._sd: Any = None
        self._lora_dir: str | None = None
        self._busy = threading.Lock()
        self._path: Path | None = None
        self._threads = 1

    @classmethod
    def warm_up(cls) -> None:
        """Engine-host hook: load stable-diffusion.cpp's library in a spare host."""
        try:
            _import_runtime()
        except BackendError:  # the load says how to install it
            pass

    @property
    def loaded(self) -> bool:
        return self._sd is not None

    def load(
        self,
        spec: ModelSpec,
        options: ImageLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        steps = LoadSteps(progress, cancel)
        self.unload()
        module = _import_runtime()
        if not spec.path:
            raise ModelNotFound(f"{spec.name} has no file to load.")
        path = Path(spec.path).expanduser()
        check_model_file(path)
        if options.base.device not in ("auto", "cpu"):
            raise UnsupportedOption(
                "This stable-diffusion.cpp build picks its own device (CPU here); choose "
                "device 'auto'."
            )
        steps.check_cancel()
        steps.report(None, f"Loading {path.name} with stable-diffusion.cpp…")
        self._threads = options.threads or max(1, (os.cpu_count() or 2) - 1)
        self._sd = self._open(module, path)
        self._path = path
        steps.report(1.0, f"{path.name} is ready.")

    def _open(self, module: Any, path: Path) -> Any:
        try:
            sd = module.StableDiffusion(
                model_path=str(path),
                n_threads=self._threads,
                verbose=False,
                **({"lora_model_dir": self._lora_dir} if self._lora_dir else {}),
            )
        except (ValueError, RuntimeError, OSError) as error:
            raise CorruptModel(
                f"stable-diffusion.cpp could not load {path.name}: {error}."
            ) from error
        if not sd.model:
            # The wrapper only skips freeing None, and free_sd_ctx(NULL) crashes the process.
            sd._model.model = None
            raise UnsupportedModel(
                f"stable-diffusion.cpp could not load {path.name}: not a model this build "
                "knows (SD 1.x/2.x, SDXL, SD3, FLUX, Z-Image). FLUX and Z-Image GGUFs hold "
                "only the diffusion model; load those through diffusers with a base pipeline."
            )
        return sd

    def _use_lora_dir(self, folder: str) -> None:
        """stable-diffusion.cpp reads LoRAs from one folder given when the model opens: a LoRA
        from another folder reopens the model with that folder (a reload, in this process)."""
        if folder == self._lora_dir or self._path is None:
            return
        self._lora_dir = folder
        old, self._sd = self._sd, None
        if old is not None:
            old.close()
        self._sd = self._open(_import_runtime(), self._path)

    def capabilities(self) -> ImageCapabilities:
        self._require()
        return ImageCapabilities(
            negative_prompt=True,
            cfg=True,
            schedulers=tuple(SDCPP_SAMPLERS),
            lora=True,
            image_to_image=True,
            size_multiple=SIZE_MULTIPLE,
            default_size=(512, 512),
            default_steps=20,
            default_cfg=7.0,
        )

    def generate(
        self, request: ImageRequest, cancel: threading.Event | None = None
    ) -> Iterator[ImageEvent]:
        self._require()
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        started = time.perf_counter()
        first: list[float] = []

        def on_progress(step: int, steps: int, _time: float) -> None:
            # The library calls this once with step 0 before the first step (after the
            # prompt is encoded), then after each step. Counted from step 0, the rate
            # read as half the true one at 2 steps (measured: 2.27x the bare library).
            if step < 1:
                return
            now = time.perf_counter()
            if not first:
                first.append(now)
            rate = (step - 1) / (now - first[0]) if step > 1 else None
            events.put(("step", ImageStep(step, steps, now - started, rate)))

        self._busy.acquire()  # a cancelled C call may still be finishing: wait for it
        try:
            if request.lora:
                self._use_lora_dir(str(Path(request.lora).expanduser().parent))
            sd = self._require()
            kwargs = self.call_kwargs(request, on_progress)
        except BaseException:
            self._busy.release()  # nothing started: the next request must not wait
            raise

        def work() -> None:
            try:
                images = sd.generate_image(**kwargs)
                events.put(("done", images[0] if images else None))
            except BaseException as error:
                events.put(("error", error))
            finally:
                forget_progress_callback()
                self._busy.release()

        threading.Thread(target=work, name="sdcpp-generate", daemon=True).start()
        rate: float | None = None
        while True:
            try:
                kind, value = events.get(timeout=0.05)
            except queue.Empty:
                kind, value = "", None
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled("The image was cancelled; nothing was saved.")
            if kind == "step":
                rate = value.steps_per_s
                yield value
            elif kind == "done":
                if value is None:
                    raise GenerationError("stable-diffusion.cpp returned no image. See the log.")
                yield ImageResult(
                    image=_plain_picture(value),
                    request=request,
                    sampler=a1111_sampler(request.scheduler) if request.scheduler else "default",
                    total_s=time.perf_counter() - started,
                    steps_per_s=rate,
                )
                return
            elif kind == "error":
                if isinstance(value, BackendError):
                    raise value
                raise GenerationError(f"stable-diffusion.cpp failed: {value}.") from value

    def call_kwargs(self, request: ImageRequest, on_progress: Any) -> dict[str, Any]:
        """The keyword arguments for `StableDiffusion.generate_image` (tests check them
        against the real signature)."""
        prompt = request.prompt
        if request.lora:
            lora = checked_lora(request.lora)
            prompt += f" <lora:{lora.stem}:{request.lora_weight:g}>"
        kwargs: dict[str, Any] = {
            "prompt": prompt,
            "negative_prompt": request.negative_prompt,
            "width": request.width,
            "height": request.height,
            "cfg_scale": request.cfg_scale,
            "sample_steps": request.steps,
            "seed": request.seed,
            "progress_callback": on_progress,
        }
        if request.scheduler:
            method = SDCPP_SAMPLERS.get(a1111_sampler(request.scheduler))
            if method is None:
                raise UnsupportedOption(
                    f"stable-diffusion.cpp has no sampler {request.scheduler}. Pick one of: "
                    f"{', '.join(SDCPP_SAMPLERS)}."
                )
            kwargs["sample_method"] = method
        if request.init_image:
            from PIL import Image

            try:
                with Image.open(request.init_image) as start:
                    kwargs["init_image"] = start.convert("RGB")
            except OSError as error:
                raise GenerationError(
                    f"The start image {request.init_image} cannot be read ({error}).",
                    title="Start image unreadable",
                ) from error
            kwargs["strength"] = request.strength
        return kwargs

    def unload(self) -> None:
        if self._sd is None:
            return
        with self._busy:
            self._sd.close()
            self._sd = None
        release_freed_memory()

    def _require(self) -> Any:
        if self._sd is None:
            raise GenerationError("No image model is loaded. Pick one, then generate again.")
        return self._sd
