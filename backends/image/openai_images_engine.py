"""Images from an OpenAI Images API server: `/v1/images/generations` and `/v1/images/edits`
(LocalAI, stable-diffusion.cpp's sd-server, vLLM-Omni, api.openai.com).

The API reports no steps, so while the server works this engine yields "working" steps
with total 0 once a second: the screen shows the elapsed time and no invented bar. The
picture comes back as `b64_json` or as a `url` fetched afterwards. A cancel returns at once
(the API has no interrupt: the server finishes its image and it is dropped).
"""

from __future__ import annotations

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
from backends.image.remote_common import StepClock, decode_image, dropped, waiting
from backends.remote.connection import BackgroundRequest, ServerModel
from backends.remote.http import check, json_body

TICK_S = 1.0  # how often the elapsed time is reported while the server works
CANCEL_CHECK_S = 0.05


class OpenAIImagesEngine:
    """An ImageEngine for a model served through the OpenAI Images API."""

    name: ClassVar[str] = "openai_images"

    def __init__(self) -> None:
        self._remote = ServerModel()
        self._send_extras = True  # seed / negative_prompt / steps: dropped after an HTTP 400

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
        self._remote.open(spec, "openai")
        self._send_extras = True

    def capabilities(self) -> ImageCapabilities:
        # The API has no CFG or sampler; negative prompts and seeds go as extras that
        # LocalAI and sd-server read.
        return ImageCapabilities(cfg=False, image_to_image=True, size_multiple=8)

    def generate(
        self, request: ImageRequest, cancel: threading.Event | None = None
    ) -> Iterator[ImageEvent]:
        client, server, model = self._remote.require("image")
        clock = StepClock()
        job = BackgroundRequest(
            lambda: self._post(client, server, model, request), "openai-images-request"
        )
        yield waiting(clock)
        last_tick = clock.elapsed_s
        while not job.wait(CANCEL_CHECK_S):
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled("Stopped waiting for the server; nothing was saved.")
            if clock.elapsed_s - last_tick >= TICK_S:
                last_tick = clock.elapsed_s
                yield waiting(clock)
        if cancel is not None and cancel.is_set():
            raise GenerationCancelled("Stopped waiting for the server; nothing was saved.")
        if isinstance(job.error, httpx.HTTPError):
            raise dropped(server, clock, None) from job.error
        response = job.response()
        check(response, server, what="/images", model=model)
        payload = json_body(response, server, "/images")
        image = self._image(client, server, payload)
        yield ImageResult(
            image=image,
            request=request,
            sampler=model,  # the server chooses; the model names what made it
            total_s=clock.elapsed_s,
            steps_per_s=None,
        )

    def _post(
        self, client: httpx.Client, server: ServerConfig, model: str, request: ImageRequest
    ) -> httpx.Response:
        """POST the request; on HTTP 400 retry once without the fields some servers refuse."""
        for extras in [True, False] if self._send_extras else [False]:
            fields: dict[str, Any] = {
                "model": model,
                "prompt": request.prompt,
                "n": 1,
                "size": f"{request.width}x{request.height}",
            }
            if extras:
                # gpt-image models refuse response_format (they always send b64_json);
                # without it DALL-E sends a url, which is fetched.
                fields["response_format"] = "b64_json"
                fields["seed"] = request.seed
                fields["step"] = request.steps  # LocalAI's name
                if request.negative_prompt:
                    fields["negative_prompt"] = request.negative_prompt
            if request.init_image:
                with open(request.init_image, "rb") as file:
                    files = {"image": ("start.png", file.read(), "image/png")}
                data = {k: str(v) for k, v in fields.items()}
                data["strength"] = str(request.strength)
                response = client.post("images/edits", data=data, files=files)
            else:
                response = client.post("images/generations", json=fields)
            if response.status_code == 400 and extras:
                continue
            if not extras:
                self._send_extras = False
            return response
        raise AssertionError("unreachable")

    def _image(self, client: httpx.Client, server: ServerConfig, payload: Any) -> Any:
        try:
            item = payload["data"][0]
        except (KeyError, IndexError, TypeError):
            raise GenerationError(
                f"{server.name} answered without an image. Check that the model makes images."
            ) from None
        if item.get("b64_json"):
            return decode_image(item["b64_json"], server)
        url = item.get("url")
        if not url:
            raise GenerationError(f"{server.name} answered with neither b64_json nor a url.")
        if url.startswith("data:"):
            return decode_image(url, server)
        try:
            fetched = client.get(url)
        except httpx.HTTPError as error:
            raise GenerationError(
                f"The image {url} from {server.name} could not be fetched ({error}). Try again."
            ) from error
        check(fetched, server, what=url)
        return decode_image(fetched.content, server)

    def unload(self) -> None:
        self._remote.close()
