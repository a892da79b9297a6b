"""Images from a ComfyUI server: a workflow goes to `POST /prompt`, progress and previews come
over the `/ws` WebSocket, the picture from `/history/{id}` and `/view`; Esc -> `/interrupt`.

A model is either a checkpoint (the built-in text-to-image / image-to-image workflow runs
it) or one of the user's API-format workflow files (`workflows` in the server's settings),
with the form's values mapped into it (backends/image/comfyui_workflow.py). A start image is
sent with `/upload/image` first.
"""

from __future__ import annotations

import json
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx

from backends.base import ModelSpec, ProgressCallback, ServerConfig
from backends.chat.openai_errors import redact
from backends.errors import GenerationError, OutOfMemory, UnsupportedModel
from backends.image.comfyui_workflow import (
    Workflow,
    builtin_workflow,
    map_inputs,
    output_nodes,
    read_workflow,
)
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
    probe_for_load,
    server_of,
)
from backends.remote.http import check, is_out_of_memory, json_body, make_client, send
from backends.remote.probe import probe_server
from backends.remote.websocket import WebSocket, WebSocketClosed

RECEIVE_S = 0.05  # how long one WebSocket read waits, so a cancel lands within it
PREVIEW_IMAGE = 1  # ComfyUI's binary event type for a sampler preview
HISTORY_TRIES, HISTORY_WAIT_S = 20, 0.1


class ComfyUIEngine:
    """An ImageEngine that runs a workflow on a ComfyUI server."""

    name: ClassVar[str] = "comfyui"

    def __init__(self) -> None:
        self._client: httpx.Client | None = None
        self._server: ServerConfig | None = None
        self._checkpoint: str | None = None
        self._workflow: Workflow | None = None
        self._workflow_name = ""
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
        self.unload()
        if spec.path:  # a workflow file
            server = server_of(spec, "comfyui")
            offered = probe_server(server, timeout_s=min(server.timeout_s, 10.0))
            if offered.error is not None:
                raise offered.error
            workflow = read_workflow(Path(spec.path))
            map_inputs(workflow, ImageRequest(""), name=Path(spec.path).name)  # usable?
            self._workflow, self._workflow_name = workflow, Path(spec.path).name
            img2img = any(n.get("class_type") == "LoadImage" for n in workflow.values())
            loras: tuple[str, ...] = ()  # a user's graph has its own LoRA nodes, if any
        else:
            server, offered, self._checkpoint = probe_for_load(spec, "comfyui")
            img2img, loras = True, offered.loras
        self._client = make_client(server)
        self._server = server
        self._caps = ImageCapabilities(
            schedulers=offered.samplers,
            image_to_image=img2img,
            default_cfg=7.0,
            lora=bool(loras),
            server_loras=loras,
        )

    def capabilities(self) -> ImageCapabilities:
        return self._caps

    def generate(
        self, request: ImageRequest, cancel: threading.Event | None = None
    ) -> Iterator[ImageEvent]:
        client, server = self._client, self._server
        if client is None or server is None:
            raise GenerationError("No image model is loaded. Pick one first (ctrl+o).")
        check_server_lora(request, self._caps, server)
        clock = StepClock()
        total = request.steps
        client_id = uuid.uuid4().hex
        try:
            ws = WebSocket.connect(
                _ws_url(server, client_id),
                headers={k: v for k, v in client.headers.items() if k.lower() == "authorization"}
                | dict(server.headers),
                timeout_s=server.connect_timeout_s,
                ssl_context=_ssl_context(server),
            )
        except OSError as error:
            raise GenerationError(
                f"{server.name} did not open its /ws progress feed ({error}). Check that it "
                "is ComfyUI and that a proxy in front of it passes WebSockets.",
            ) from error
        try:
            workflow = self._graph(client, server, request)
            prompt_id = self._queue(client, server, workflow, client_id)
            preview = None
            silent_s = 0.0
            while True:
                if cancel is not None and cancel.is_set():
                    _interrupt(client, prompt_id)
                    raise GenerationCancelled("Stopped on the server; nothing was saved.")
                message = ws.receive(RECEIVE_S)
                if message is None:
                    silent_s += RECEIVE_S
                    if silent_s > server.timeout_s:
                        raise dropped(server, clock, total)
                    continue
                silent_s = 0.0
                if message.data is not None:
                    preview = _preview(message.data) if request.live_preview else None
                    if preview is not None and clock.last:
                        yield clock.step(clock.last, total, decode_image(preview, server))
                    continue
                event = json.loads(message.text or "{}")
                kind, data = event.get("type"), event.get("data") or {}
                if data.get("prompt_id") not in (None, prompt_id):
                    continue  # someone else's job on the same server
                if kind == "progress":
                    total = int(data.get("max") or total)
                    yield clock.step(int(data.get("value") or 0), total)
                elif kind == "execution_error":
                    raise _execution_error(server, data)
                elif kind == "execution_interrupted":
                    raise GenerationCancelled(
                        f"The job was interrupted on {server.name}; nothing was saved."
                    )
                elif kind == "executing" and data.get("node") is None:
                    # The end: ComfyUI sends it after the history is written (not so for
                    # execution_success, which comes first).
                    break
        except (WebSocketClosed, OSError) as error:
            raise dropped(server, clock, total) from error
        finally:
            ws.close()
        image = self._fetch_result(client, server, prompt_id, workflow)
        if clock.last < total:
            yield clock.step(total, total)
        yield ImageResult(
            image=image,
            request=request,
            sampler=request.scheduler or _sampler_in(workflow),
            total_s=clock.elapsed_s,
            steps_per_s=clock.steps_per_s,
        )

    def _graph(self, client: httpx.Client, server: ServerConfig, request: ImageRequest) -> Workflow:
        start = _upload(client, server, request.init_image) if request.init_image else None
        if self._workflow is not None:
            return map_inputs(
                self._workflow,
                request,
                sampler=request.scheduler,
                start_image=start,
                name=self._workflow_name,
            )
        assert self._checkpoint is not None
        return builtin_workflow(
            request, self._checkpoint, sampler=request.scheduler or "euler", start_image=start
        )

    def _queue(
        self, client: httpx.Client, server: ServerConfig, workflow: Workflow, client_id: str
    ) -> str:
        response = send(
            client, server, "POST", "prompt", json={"prompt": workflow, "client_id": client_id}
        )
        if response.status_code == 400:
            raise _rejected(server, response)
        check(response, server, what="/prompt")
        payload = json_body(response, server, "/prompt")
        return str(payload["prompt_id"])

    def _fetch_result(
        self, client: httpx.Client, server: ServerConfig, prompt_id: str, workflow: Workflow
    ) -> Any:
        history: dict[str, Any] = {}
        for _ in range(HISTORY_TRIES):  # a proxy may reorder; the history comes a moment later
            path = f"history/{prompt_id}"
            answer = json_body(send(client, server, "GET", path), server, "/history")
            history = (answer.get(prompt_id) if isinstance(answer, dict) else None) or {}
            if history:
                break
            time.sleep(HISTORY_WAIT_S)
        outputs = history.get("outputs") or {}
        ours = output_nodes(workflow)
        for node_id in [*ours, *outputs]:
            for picture in (outputs.get(node_id) or {}).get("images") or []:
                response = send(
                    client,
                    server,
                    "GET",
                    "view",
                    params={
                        "filename": picture.get("filename", ""),
                        "subfolder": picture.get("subfolder", ""),
                        "type": picture.get("type", "output"),
                    },
                )
                check(response, server, what="/view")
                return decode_image(response.content, server)
        raise GenerationError(
            f"{server.name} finished the workflow but it saved no image. Add a SaveImage node "
            "to the workflow.",
        )

    def unload(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client, self._server = None, None
        self._checkpoint, self._workflow = None, None


def _ws_url(server: ServerConfig, client_id: str) -> str:
    root = server.base_url.rstrip("/")
    scheme, _, rest = root.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws?clientId={client_id}"


def _ssl_context(server: ServerConfig) -> Any:
    if not server.base_url.startswith("https"):
        return None
    import ssl

    return ssl.create_default_context(cafile=server.ca_file) if server.ca_file else None


def _preview(frame: bytes) -> bytes | None:
    """The picture in a binary frame: event type (4 bytes), image format (4 bytes), bytes."""
    if len(frame) < 8 or struct.unpack(">I", frame[:4])[0] != PREVIEW_IMAGE:
        return None
    return frame[8:]


def _upload(client: httpx.Client, server: ServerConfig, path: str) -> str:
    with open(path, "rb") as file:
        files = {"image": (Path(path).name, file.read(), "image/png")}
    response = send(client, server, "POST", "upload/image", files=files, data={"overwrite": "true"})
    check(response, server, what="/upload/image")
    answer = json_body(response, server, "/upload/image")
    subfolder = answer.get("subfolder") or ""
    return f"{subfolder}/{answer['name']}" if subfolder else str(answer["name"])


def _interrupt(client: httpx.Client, prompt_id: str) -> None:
    try:
        client.post("interrupt", json={"prompt_id": prompt_id}, timeout=5.0)
    except httpx.HTTPError:
        pass  # the server is gone: nothing left to stop


def _rejected(server: ServerConfig, response: httpx.Response) -> Exception:
    """ComfyUI's 400 for a workflow it will not run: a missing checkpoint, a bad input."""
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    error = payload.get("error") or {}
    details = [
        f"{node.get('class_type', node_id)}: {e.get('details') or e.get('message')}"
        for node_id, node in (payload.get("node_errors") or {}).items()
        for e in node.get("errors") or []
    ]
    text = redact("; ".join(details) or str(error.get("message") or response.text[:200]), server)
    if "not in" in text and ("ckpt_name" in text or "Checkpoint" in text):
        return UnsupportedModel(
            f"{server.name} does not have that checkpoint ({text}). Pick one the server lists.",
            title="Model missing on the server",
        )
    return GenerationError(
        f"{server.name} refused the workflow: {text}. Fix the workflow or the form's values.",
        title="Workflow refused",
    )


def _execution_error(server: ServerConfig, data: dict[str, Any]) -> Exception:
    message = redact(str(data.get("exception_message") or "no message").strip(), server)
    where = data.get("node_type") or data.get("node_id") or "a node"
    if is_out_of_memory(message) or "OutOfMemory" in str(data.get("exception_type")):
        return OutOfMemory(
            f"{server.name} ran out of memory in {where}: {message}. Try a smaller size, or "
            "free memory on the server (unload models there).",
            title="Out of memory on the server",
        )
    return GenerationError(
        f"{server.name} failed in {where}: {message}. Check the server's log.",
        title="Workflow failed",
    )


def _sampler_in(workflow: Workflow) -> str:
    for node in workflow.values():
        if node.get("class_type") in ("KSampler", "KSamplerAdvanced"):
            return str(node["inputs"].get("sampler_name", "euler"))
    return "ComfyUI workflow"
