"""Images from an AUTOMATIC1111 / Forge server: `/sdapi/v1/txt2img` and `/img2img`.

The request blocks until the image is done, so it runs in a helper thread while this one
polls `/sdapi/v1/progress` for the step count and the live preview (`current_image`). A
cancel posts `/sdapi/v1/interrupt` (the server stops after its current step) and raises
GenerationCancelled at once. The checkpoint goes in each request's `override_settings`, so
the server's own default is never changed behind the user's back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx

from backends.base import ModelSpec, ProgressCallback, ServerConfig
from backends.errors import GenerationError
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
    decode_image,
    dropped,
    encode_file,
    probe_for_load,
)
from backends.remote.http import check, json_body, make_client

POLL_S = 0.25  # how often /progress is asked while an image is made
CANCEL_CHECK_S = 0.05


class A1111Engine:
    """An ImageEngine whose model lives on an AUTOMATIC1111 / Forge server."""

    name: ClassVar[str] = "a1111"

    def __init__(self, poll_s: float = POLL_S) -> None:
        self._poll_s = poll_s
        self._client: httpx.Client | None = None
        self._server: ServerConfig | None = None
        self._model: str | None = None
        self._caps = ImageCapabilities()

    @property
    def loaded(self) -> bool:
        return self._client is not None

    def load(
        self,
        spec: ModelSpec,
        options: ImageLoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Check the server is A1111, has the checkpoint, and read its samplers."""
        self.unload()
        server, offered, model = probe_for_load(spec, "a1111")
        self._client = make_client(server)
        self._server, self._model = server, model
        self._caps = ImageCapabilities(
            schedulers=offered.samplers,
            image_to_image=True,
            default_steps=20,
            default_cfg=7.0,
        )

    def capabilities(self) -> ImageCapabilities:
        return self._caps

    def generate(
        self, request: ImageRequest, cancel: threading.Event | None = None
    ) -> Iterator[ImageEvent]:
        client, server, model = self._client, self._server, self._model
        if client is None or server is None or model is None:
            raise GenerationError("No image model is loaded. Pick one first (ctrl+o).")
        clock = StepClock()
        path = "sdapi/v1/img2img" if request.init_image else "sdapi/v1/txt2img"
        body = request_body(request, model)
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def post() -> None:
            try:
                outcome["response"] = client.post(path, json=body)
            except httpx.HTTPError as error:
                outcome["error"] = error
            finally:
                done.set()

        threading.Thread(target=post, name="a1111-request", daemon=True).start()
        total = request.steps
        last_poll = 0.0
        last_preview: str | None = None
        while not done.wait(CANCEL_CHECK_S):
            if cancel is not None and cancel.is_set():
                self._interrupt(client)
                raise GenerationCancelled("Stopped on the server; nothing was saved.")
            if clock.elapsed_s - last_poll < self._poll_s:
                continue
            last_poll = clock.elapsed_s
            state = self._progress(client, request.live_preview)
            if state is None:
                continue
            step, steps, preview = state
            if steps:
                total = steps
            fresh = preview if preview and preview != last_preview else None
            if step > clock.last or fresh:
                last_preview = preview or last_preview
                image = decode_image(fresh, server) if fresh else None
                yield clock.step(max(step, clock.last), total, image)
        if cancel is not None and cancel.is_set():
            raise GenerationCancelled("Stopped on the server; nothing was saved.")
        if "error" in outcome:
            raise dropped(server, clock, total) from outcome["error"]
        response: httpx.Response = outcome["response"]
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
        )

    def _progress(self, client: httpx.Client, previews: bool) -> tuple[int, int, str | None] | None:
        """(step, steps, current_image) from /sdapi/v1/progress; None when it fails (the
        request thread reports a dead server)."""
        try:
            response = client.get(
                "sdapi/v1/progress",
                params={"skip_current_image": "false" if previews else "true"},
                timeout=5.0,
            )
            state = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        if not isinstance(state, dict):
            return None
        job = state.get("state") or {}
        preview = state.get("current_image")
        return (
            int(job.get("sampling_step") or 0),
            int(job.get("sampling_steps") or 0),
            preview if isinstance(preview, str) and preview else None,
        )

    def _interrupt(self, client: httpx.Client) -> None:
        try:
            client.post("sdapi/v1/interrupt", timeout=5.0)
        except httpx.HTTPError:
            pass  # the server is gone: nothing left to stop

    def unload(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client, self._server, self._model = None, None, None


def request_body(request: ImageRequest, model: str) -> dict[str, Any]:
    """The txt2img / img2img body A1111 and Forge take."""
    body: dict[str, Any] = {
        "prompt": request.prompt,
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
