"""Images with diffusers: any pipeline the auto pipelines know, from the HF cache or a folder.

A spec's `path` is a diffusers folder (model_index.json), or a GGUF-quantized transformer
(`.gguf`) that goes into the pipeline named by `ImageLoadOptions.base_pipeline`. A `repo_id`
loads the snapshot already in the HF cache. Loading never reaches the Hub.

The pipeline runs in a helper thread; its `callback_on_step_end` reports each step through
a queue, and raises to abort when `cancel` is set (diffusers then skips the VAE decode, so
nothing half-made comes out, and the pipeline stays usable).
"""

from __future__ import annotations

import inspect
import logging
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from backends.base import ModelSpec, ProgressCallback
from backends.chat.lifecycle import LoadSteps, release_freed_memory
from backends.errors import BackendError, GenerationError, ModelNotFound, UnsupportedOption
from backends.image.diffusers_errors import translate_load_error
from backends.image.diffusers_pipeline import (
    build_pipeline,
    import_runtime,
    place_pipeline,
    resolve_pipeline_dir,
    set_cpu_threads,
    usable_samplers,
    warm_runtime,
)
from backends.image.latent_preview import latent_preview, wants_preview
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
from backends.image.samplers import MIN_STEPS, a1111_sampler, diffusers_scheduler_name

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)


class _Abort(Exception):
    """Raised inside the step callback to stop the pipeline before the decode."""


class DiffusersEngine:
    """An ImageEngine over diffusers' auto pipelines; one model at a time."""

    name: ClassVar[str] = "diffusers"

    def __init__(self) -> None:
        self._pipe: Any = None
        self._img2img: Any = None
        self._model_name = ""
        self._device = "cpu"
        self._lora: tuple[str, float] | None = None
        self._default_scheduler: Any = None
        self._samplers: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._sampler: str | None = None  # the A1111 name swapped in, None: the model's own
        self._lock = threading.Lock()

    @classmethod
    def warm_up(cls) -> None:
        """Engine-host hook: import diffusers' loading machinery in a spare host, so a
        new host (a model switch, the reload after a cancel killed one) loads in
        ~0.4 s instead of ~5 s (see `warm_runtime`)."""
        warm_runtime()

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    # -- load ------------------------------------------------------------------------------

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
        steps.report(None, "Importing diffusers…")
        import_runtime()
        from backends.chat.transformers_placement import pick_device, pick_dtype

        device = pick_device(options.base.device)
        dtype = pick_dtype(options.base.dtype, device)
        if device == "cpu":
            set_cpu_threads(options.base.n_threads)
        steps.check_cancel()
        gguf = spec.path if spec.path and spec.path.lower().endswith(".gguf") else None
        if gguf:
            if not options.base_pipeline:
                raise ModelNotFound(
                    f"{Path(gguf).name} holds only a quantized transformer. Set its base "
                    "pipeline (the diffusers repo or folder it was made from, e.g. "
                    "Tongyi-MAI/Z-Image-Turbo) in the model's image settings."
                )
            folder = resolve_pipeline_dir(options.base_pipeline, what="The base pipeline")
        else:
            folder = resolve_pipeline_dir(spec.path or spec.repo_id or "")
        steps.report(None, f"Loading {spec.name}…")  # folder.name is a snapshot hash
        try:
            pipe = build_pipeline(folder, gguf, dtype)
        except BackendError:
            raise
        except Exception as error:  # diffusers raises many kinds; say what it means
            raise translate_load_error(error, folder, gguf) from error
        steps.check_cancel()
        try:
            place_pipeline(pipe, device, options)
        except Exception as error:
            raise translate_load_error(error, folder, gguf) from error
        pipe.set_progress_bar_config(disable=True)
        self._pipe = pipe
        self._default_scheduler = pipe.scheduler
        self._samplers = usable_samplers(pipe)
        self._sampler = None
        self._device = device
        self._model_name = spec.name
        if cancel is not None and cancel.is_set():
            self.unload()
            steps.check_cancel()
        steps.report(1.0, f"{spec.name} is ready on {device}.")

    # -- what it can do --------------------------------------------------------------------

    def capabilities(self) -> ImageCapabilities:
        pipe = self._require()
        params = inspect.signature(pipe.__call__).parameters
        scale = int(getattr(pipe, "vae_scale_factor", 8) or 8)
        transformer = getattr(pipe, "transformer", None)
        patch = getattr(getattr(transformer, "config", None), "patch_size", None) or 1
        multiple = scale * int(patch if isinstance(patch, int) else 1)
        sample = getattr(getattr(getattr(pipe, "unet", None), "config", None), "sample_size", None)
        default = getattr(pipe, "default_sample_size", None) or sample
        side = int(default) * scale if isinstance(default, int) else 512
        return ImageCapabilities(
            negative_prompt="negative_prompt" in params,
            cfg="guidance_scale" in params,
            schedulers=tuple(self._samplers),
            lora=hasattr(pipe, "load_lora_weights"),
            image_to_image=self._img2img_supported(pipe),
            size_multiple=max(multiple, 8),
            default_size=(side, side),
            default_steps=20,
            default_cfg=float(params["guidance_scale"].default)
            if "guidance_scale" in params and isinstance(params["guidance_scale"].default, float)
            else 7.0,
        )

    @staticmethod
    def _img2img_supported(pipe: Any) -> bool:
        try:
            from diffusers.pipelines.auto_pipeline import (
                AUTO_IMAGE2IMAGE_PIPELINES_MAPPING as mapping,
            )
            from diffusers.pipelines.auto_pipeline import _get_task_class

            _get_task_class(mapping, pipe.__class__.__name__, throw_error_if_not_exist=True)
        except (ImportError, ValueError, TypeError):
            return False
        return True

    # -- generate --------------------------------------------------------------------------

    def generate(
        self, request: ImageRequest, cancel: threading.Event | None = None
    ) -> Iterator[ImageEvent]:
        pipe = self._require()
        if not self._lock.acquire(blocking=False):
            raise GenerationError("An image is being made. Wait for it or cancel it.")
        stop = threading.Event()
        try:
            try:
                runner = self._prepare(pipe, request)
            except Exception as error:  # a scheduler or LoRA the runtime chokes on
                raise self._generation_error(error) from error
            yield from self._run(runner, request, cancel, stop)
        finally:
            stop.set()
            self._lock.release()

    def _prepare(self, pipe: Any, request: ImageRequest) -> Any:
        """The pipeline for this request: scheduler, LoRA, and img2img when it has a start image."""
        if request.scheduler:
            name = a1111_sampler(request.scheduler)
            if name not in self._samplers:
                raise UnsupportedOption(
                    f"This model cannot use the sampler {request.scheduler}. Pick one of: "
                    f"{', '.join(self._samplers) or 'the model default'}."
                )
            if name != self._sampler:
                cls, extra = self._samplers[name]
                pipe.scheduler = cls.from_config(self._default_scheduler.config, **extra)
                self._sampler = name
        elif self._sampler is not None:
            pipe.scheduler = self._default_scheduler
            self._sampler = None
        sampler = diffusers_scheduler_name(pipe.scheduler)
        fewest = MIN_STEPS.get(sampler, 1)
        if request.steps < fewest and not request.init_image:
            raise UnsupportedOption(
                f"The {sampler} sampler needs at least {fewest} steps. Set Steps to {fewest} "
                "or more, or pick another sampler."
            )
        self._set_lora(pipe, request)
        if not request.init_image:
            return pipe
        if not self._img2img_supported(pipe):
            raise UnsupportedOption(
                f"{type(pipe).__name__} has no image-to-image variant. Clear the start image."
            )
        from diffusers import AutoPipelineForImage2Image

        if self._img2img is None:
            self._img2img = AutoPipelineForImage2Image.from_pipe(pipe)
            self._img2img.set_progress_bar_config(disable=True)
        self._img2img.scheduler = pipe.scheduler
        return self._img2img

    def _set_lora(self, pipe: Any, request: ImageRequest) -> None:
        wanted = (request.lora, request.lora_weight) if request.lora else None
        if wanted == self._lora:
            return
        if self._lora is not None:
            pipe.unload_lora_weights()
            self._lora = None
        if wanted is None:
            return
        if not hasattr(pipe, "load_lora_weights"):
            raise UnsupportedOption(f"{type(pipe).__name__} does not take LoRA files here.")
        lora = checked_lora(wanted[0])
        try:
            pipe.load_lora_weights(str(lora), adapter_name="user")
            pipe.set_adapters(["user"], adapter_weights=[wanted[1]])
        except Exception as error:  # peft/diffusers raise ValueError, KeyError, RuntimeError
            raise UnsupportedOption(
                f"The LoRA {lora.name} does not fit this model ({error}). Use a LoRA made for "
                "this base model."
            ) from error
        self._lora = wanted

    def _run(
        self,
        runner: Any,
        request: ImageRequest,
        cancel: threading.Event | None,
        stop: threading.Event,
    ) -> Iterator[ImageEvent]:
        import torch

        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        started = time.perf_counter()
        first_step_at: list[float] = []

        def on_step(pipe: Any, index: int, timestep: Any, kwargs: dict[str, Any]) -> dict:
            now = time.perf_counter()
            if not first_step_at:
                first_step_at.append(now)
            done = index + 1
            total = int(getattr(pipe, "num_timesteps", 0) or 0) or request.steps
            rate = (done - 1) / (now - first_step_at[0]) if done > 1 else None
            preview = None
            if request.live_preview and wants_preview(done, total):
                preview = latent_preview(kwargs.get("latents"))
            events.put(("step", ImageStep(done, total, now - started, rate, preview)))
            if stop.is_set() or (cancel is not None and cancel.is_set()):
                raise _Abort
            return kwargs

        call = self._call_kwargs(runner, request, on_step, torch)

        def work() -> None:
            try:
                with torch.inference_mode():
                    images = runner(**call).images
                events.put(("done", images[0]))
            except _Abort:
                events.put(("cancelled", None))
            except BaseException as error:  # reported to the caller's thread
                events.put(("error", error))

        threading.Thread(target=work, name="diffusers-generate", daemon=True).start()
        last_rate: float | None = None
        while True:
            kind, value = events.get()
            if kind == "step":
                last_rate = value.steps_per_s
                yield value
            elif kind == "done":
                image: Image = value
                yield ImageResult(
                    image=image,
                    request=request,
                    sampler=diffusers_scheduler_name(runner.scheduler),
                    total_s=time.perf_counter() - started,
                    steps_per_s=last_rate,
                )
                return
            elif kind == "cancelled":
                raise GenerationCancelled("The image was cancelled; nothing was saved.")
            else:
                raise self._generation_error(value)

    def _call_kwargs(self, runner: Any, request: ImageRequest, on_step: Any, torch: Any) -> dict:
        params = inspect.signature(runner.__call__).parameters
        call: dict[str, Any] = {
            "prompt": request.prompt,
            "num_inference_steps": request.steps,
            "generator": torch.Generator(device="cpu").manual_seed(request.seed),
            "callback_on_step_end": on_step,
        }
        if "negative_prompt" in params and request.negative_prompt:
            call["negative_prompt"] = request.negative_prompt
        if "guidance_scale" in params:
            call["guidance_scale"] = request.cfg_scale
        if request.init_image:
            from PIL import Image as PILImage

            try:
                with PILImage.open(request.init_image) as start:
                    call["image"] = start.convert("RGB").resize((request.width, request.height))
            except OSError as error:
                raise GenerationError(
                    f"The start image {request.init_image} cannot be read ({error}). Pick "
                    "another image in the gallery.",
                    title="Start image unreadable",
                ) from error
            call["strength"] = request.strength
        else:
            call["width"], call["height"] = request.width, request.height
        return call

    @staticmethod
    def _generation_error(error: BaseException) -> BackendError:
        if isinstance(error, BackendError):
            return error
        if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
            from backends.errors import OutOfMemory

            return OutOfMemory(
                "The image did not fit in memory. Make it smaller, use fewer images at once, "
                "or turn on a memory saver (images.memory_saver) on a GPU."
            )
        first = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        return GenerationError(
            f"diffusers could not make this image ({first}). Try the model's default "
            "sampler, another size or fewer steps; the engine log has the details."
        )

    # -- unload ----------------------------------------------------------------------------

    def unload(self) -> None:
        if self._pipe is None:
            return
        self._pipe = None
        self._img2img = None
        self._default_scheduler = None
        self._samplers, self._sampler = {}, None
        self._lora = None
        release_freed_memory()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass

    def _require(self) -> Any:
        if self._pipe is None:
            raise GenerationError("No image model is loaded. Pick one, then generate again.")
        return self._pipe

    @property
    def model_name(self) -> str:
        return self._model_name
