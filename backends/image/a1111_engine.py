"""Images from an AUTOMATIC1111 / Forge server: `/sdapi/v1/txt2img` and `/img2img`.

The request blocks until the image is done, so it runs in a helper thread; a second helper
polls `/sdapi/v1/progress` for the step count and the live preview (`current_image`), so a
poll in flight never holds the finished picture back. A cancel posts `/sdapi/v1/interrupt`
(the server stops after its current step) and raises GenerationCancelled at once. The
checkpoint goes in each request's `override_settings`, so the server's own default is never
changed behind the user's back. A LoRA goes the A1111 way, as `<lora:name:weight>` in the
prompt, with a name from the server's `/sdapi/v1/loras`.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from backends.base import ModelSpec, ProgressCallback, ServerConfig
from backends.errors import GenerationError
from backends.image.png_metadata import lora_label
from backends.image.protocol import (
    GenerationCancelled,
    ImageCapabilities,
    ImageEvent,
    ImageLoadOptions,
    ImageRequest,
    ImageResult,
)
from backends.image.remote_common import (
    StepClock,
    check_server_lora,
    decode_image,
    dropped,
    encode_file,
)
from backends.remote.connection import BackgroundRequest, ServerModel
from backends.remote.http import check, json_body

if TYPE_CHECKING:
    from PIL.Image import Image

POLL_S = 0.25  # how often /progress is asked while an image is made
CANCEL_CHECK_S = 0.05


class A1111Engine:
    """An ImageEngine whose model lives on an AUTOMATIC1111 / Forge server."""

    name: ClassVar[str] = "a1111"

    def __init__(self, poll_s: float = POLL_S) -> None:
        self._poll_s = poll_s
        self._remote = ServerModel()
        self._caps = ImageCapabilities()

    @property
    def loaded(self) -> bool:
        return self._remote.loaded

    def load(
        self,
        spec: ModelSpec,
        options: ImageLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Check the server is A1111, has the checkpoint, and read its samplers and LoRAs."""
        self.unload()
        offered = self._remote.open(spec, "a1111")
        self._caps = ImageCapabilities(
            schedulers=offered.samplers,
            lora=bool(offered.loras),
            server_loras=offered.loras,
            image_to_image=True,
            default_steps=20,
            default_cfg=7.0,
        )

    def capabilities(self) -> ImageCapabilities:
        return self._caps

    def generate(
        self, request: ImageRequest, cancel: threading.Event | None = None
    ) -> Iterator[ImageEvent]:
        client, server, model = self._remote.require("image")
        check_server_lora(request, self._caps, server)
        clock = StepClock()
        path = "sdapi/v1/img2img" if request.init_image else "sdapi/v1/txt2img"
        body = request_body(request, model)
        job = BackgroundRequest(lambda: client.post(path, json=body), "a1111-request")
        stop = threading.Event()
        states = _poll_progress(client, server, self._poll_s, request.live_preview, stop)
        total = request.steps
        try:
            while not job.wait(CANCEL_CHECK_S):
                if cancel is not None and cancel.is_set():
                    self._interrupt(client)
                    raise GenerationCancelled("Stopped on the server; nothing was saved.")
                latest = _latest(states)
                if latest is None:
                    continue
                step, steps, preview = latest
                total = steps or total
                if step > clock.last or preview is not None:
                    yield clock.step(max(step, clock.last), total, preview)
        finally:
            stop.set()
        if cancel is not None and cancel.is_set():
            raise GenerationCancelled("Stopped on the server; nothing was saved.")
        if job.error is not None:
            raise dropped(server, clock, total) from job.error
        response = job.response()
        check(response, server, what=f"/{path}", model=model)
        payload = json_body(response, server, f"/{path}")
        images = payload.get("images") if isinstance(payload, dict) else None
        if not images:
            raise GenerationError(
                f"{server.name} finished without an image (the job may have been interrupted "
                "on the server). Queue it again.",
            )
        info = _info(payload)
        if clock.last < total:
            yield clock.step(total, total)
        yield ImageResult(
            image=decode_image(images[0], server),
            request=request,
            sampler=str(info.get("sampler_name") or request.scheduler or "Euler a"),
            total_s=clock.elapsed_s,
            steps_per_s=clock.steps_per_s,
            lora_hash=_lora_hash(info, request),
        )

    def _interrupt(self, client: httpx.Client) -> None:
        try:
            client.post("sdapi/v1/interrupt", timeout=5.0)
        except httpx.HTTPError:
            pass  # the server is gone: nothing left to stop

    def unload(self) -> None:
        self._remote.close()


Progress = tuple[int, int, "Image | None"]


def _poll_progress(
    client: httpx.Client,
    server: ServerConfig,
    every_s: float,
    previews: bool,
    stop: threading.Event,
) -> queue.SimpleQueue[Progress]:
    """(step, steps, new preview or None) from /sdapi/v1/progress every `every_s` until
    `stop`, polled and decoded in a helper thread. A failed poll is skipped: the request's
    own thread reports a dead server."""
    states: queue.SimpleQueue[Progress] = queue.SimpleQueue()

    def run() -> None:
        last_preview: str | None = None
        while not stop.wait(max(every_s, CANCEL_CHECK_S)):
            try:
                response = client.get(
                    "sdapi/v1/progress",
                    params={"skip_current_image": "false" if previews else "true"},
                    timeout=5.0,
                )
                state = response.json()
            except (httpx.HTTPError, ValueError):
                continue
            if not isinstance(state, dict) or stop.is_set():
                continue
            job = state.get("state") or {}
            raw = state.get("current_image")
            fresh = raw if isinstance(raw, str) and raw and raw != last_preview else None
            try:
                image = decode_image(fresh, server) if fresh else None
            except GenerationError:
                image = None
            last_preview = fresh or last_preview
            step, steps = int(job.get("sampling_step") or 0), int(job.get("sampling_steps") or 0)
            states.put((step, steps, image))

    threading.Thread(target=run, name="a1111-progress", daemon=True).start()
    return states


def _latest(states: queue.SimpleQueue[Progress]) -> Progress | None:
    """The newest state, keeping the newest preview among those skipped."""
    latest: Progress | None = None
    while True:
        try:
            state = states.get_nowait()
        except queue.Empty:
            return latest
        preview = state[2] if state[2] is not None else (latest[2] if latest else None)
        latest = (state[0], state[1], preview)


def request_body(request: ImageRequest, model: str) -> dict[str, Any]:
    """The txt2img / img2img body A1111 and Forge take."""
    prompt = request.prompt
    if request.lora:  # A1111 reads LoRAs from the prompt
        prompt = f"{prompt} <lora:{lora_label(request.lora)}:{request.lora_weight:g}>"
    body: dict[str, Any] = {
        "prompt": prompt,
        "negative_prompt": request.negative_prompt,
        "steps": request.steps,
        "cfg_scale": request.cfg_scale,
        "seed": request.seed,
        "width": request.width,
        "height": request.height,
        "batch_size": 1,
        "n_iter": 1,
        "send_images": True,
        "save_images": False,
        "override_settings": {"sd_model_checkpoint": model},
        "override_settings_restore_afterwards": True,
    }
    if request.scheduler:
        body["sampler_name"] = request.scheduler
    if request.init_image:
        body["init_images"] = [encode_file(request.init_image)]
        body["denoising_strength"] = request.strength
    return body


def _info(payload: dict[str, Any]) -> dict[str, Any]:
    """A1111 returns `info` as a JSON string."""
    info = payload.get("info")
    if isinstance(info, str):
        try:
            info = json.loads(info)
        except ValueError:
            return {}
    return info if isinstance(info, dict) else {}


def _lora_hash(info: dict[str, Any], request: ImageRequest) -> str | None:
    """The LoRA's hash from A1111's `extra_generation_params["Lora hashes"]`
    (`"name: 0123abcd4567"`), when the server wrote one."""
    extra = info.get("extra_generation_params")
    text = extra.get("Lora hashes") if isinstance(extra, dict) else None
    if not request.lora or not isinstance(text, str):
        return None
    wanted = lora_label(request.lora)
    for part in text.split(","):
        name, _, value = part.strip().partition(":")
        if name.strip() == wanted and value.strip():
            return value.strip()
    return None
