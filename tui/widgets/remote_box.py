"""The remote boxes under the device gauge: each server's VRAM and loaded models, where the
server says (ComfyUI, AUTOMATIC1111 / Forge, Ollama), and `u` to unload there. The chat's
model, when it runs on one of these servers, is named first with the VRAM it holds there
("chat tiny-chat 800 MB"), or "not loaded" when the server's /api/ps does not list it.

Readings run in a thread worker on a timer and arrive as a `Read` message, so the UI never
waits on a slow or dead server; a server that says nothing about memory gets no line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widget import Widget

from backends.base import ModelSpec, ServerConfig
from backends.remote.box_state import RemoteBoxState
from tui.human_units import human_bytes

if TYPE_CHECKING:
    from textual.screen import Screen

    from backends.settings import Settings

_BAR = 10
_KIND_LABELS = {"comfyui": "ComfyUI", "a1111": "A1111", "ollama": "Ollama"}


ChatModel = Callable[[], "tuple[str, str] | None"]  # (server name, model id) of the chat's


def same_model(listed: str, wanted: str) -> bool:
    """Ollama lists "llama3.2:latest" for a model asked for as "llama3.2"."""
    return listed == wanted or listed.removesuffix(":latest") == wanted.removesuffix(":latest")


def box_line(state: RemoteBoxState, chat_model: str | None = None) -> Content:
    """ "⛁ forge (A1111)  VRAM ████░░░░░░ 5.0/8.0 GB" and the like; `chat_model` is the
    chat's model when it runs on this server."""
    head = f"⛁ {state.server} ({_KIND_LABELS.get(state.kind, state.kind)})"
    if state.error is not None:  # the reason was said in a notification, and is a tooltip
        return Content.assemble(head, " ", ("down", "$text-error"))
    parts: list[str | tuple[str, str] | Content] = [head]
    for device in state.devices:
        used = device.vram_total - device.vram_free
        filled = round(_BAR * used / device.vram_total) if device.vram_total else 0
        parts += [
            "  VRAM ",
            ("█" * filled, "$accent"),
            ("░" * (_BAR - filled), "$text-muted"),
            f" {human_bytes(used).removesuffix(' GB')}/{human_bytes(device.vram_total)}",
        ]
    loaded = list(state.loaded)
    if chat_model is not None and state.kind == "ollama":
        held = next((size for name, size in loaded if same_model(name, chat_model)), None)
        loaded = [(name, size) for name, size in loaded if not same_model(name, chat_model)]
        where = human_bytes(held) if held is not None else "not loaded"
        parts.append(Content.assemble("  chat ", (chat_model, "bold"), f" {where}"))
        if loaded:
            others = ", ".join(f"{name} {human_bytes(size)}" for name, size in loaded)
            parts.append(f" · also loaded: {others}")
        return Content.assemble(*parts)
    if loaded:
        models = ", ".join(f"{name} {human_bytes(size)}" for name, size in loaded)
        parts.append(f"  loaded: {models}")
    elif state.kind == "ollama":
        parts.append("  nothing loaded")
    return Content.assemble(*parts)


class RemoteBoxGauge(Widget, can_focus=True):
    DEFAULT_CSS = """
    RemoteBoxGauge { height: auto; max-height: 3; padding: 0 1; background: $panel; }
    RemoteBoxGauge:focus { background: $panel-lighten-1; }
    """
    BINDINGS = [Binding("u", "unload", "Unload on the server", id="remote_box.unload")]

    @dataclass
    class Read(Message):
        states: list[RemoteBoxState]

    def __init__(
        self,
        servers: list[ServerConfig],
        interval: float = 5.0,
        chat_model: ChatModel | None = None,
    ) -> None:
        """`chat_model` says which model the chat uses on which server (read at each draw)."""
        super().__init__()
        self._servers = servers
        self._interval = interval
        self._chat_model = chat_model
        self._states: list[RemoteBoxState] = []
        self._reading = False

    @property
    def states(self) -> list[RemoteBoxState]:
        return self._states

    def on_mount(self) -> None:
        self.display = False  # until a server says something
        self.read_now()
        self.set_interval(self._interval, self.read_now)

    def read_now(self) -> None:
        if not self._reading:
            self._reading = True
            self._read()

    @work(thread=True, group="remote-box", exit_on_error=False)
    def _read(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from backends.remote.box_state import read_box_state

        try:
            with ThreadPoolExecutor(max_workers=min(8, len(self._servers) or 1)) as pool:
                states = [s for s in pool.map(read_box_state, self._servers) if s is not None]
        finally:
            self._reading = False
        self.post_message(self.Read(states))

    @on(Read)
    def _show(self, message: Read) -> None:
        self._states = message.states
        self.display = bool(message.states)
        down = [f"{s.server}: {s.error}" for s in message.states if s.error is not None]
        self.tooltip = "\n".join(down) or None
        self.refresh(layout=True)

    def render(self) -> Content:
        """The servers side by side, as many to a line as fit (one line for one server)."""
        width = max(self.content_region.width, 20)
        chat = self._chat_model() if self._chat_model is not None else None
        lines: list[list[Content]] = []
        for state in self._states:
            part = box_line(state, chat[1] if chat and chat[0] == state.server else None)
            line = lines[-1] if lines else None
            used = sum(p.cell_length for p in line) + 3 * len(line) if line else 0
            if line and used + part.cell_length <= width:
                line.append(part)
            else:
                lines.append([part])
        return Content("\n").join(Content("   ").join(line) for line in lines)

    def action_unload(self) -> None:
        names = {s.server for s in self._states if s.can_unload and s.error is None}
        targets = [s for s in self._servers if s.name in names]
        if not targets:
            self.notify("No server here lets the app unload its models.", severity="warning")
            return
        self._unload(targets)

    @work(thread=True, group="remote-box-unload", exit_on_error=False)
    def _unload(self, servers: list[ServerConfig]) -> None:
        from backends.errors import BackendError
        from backends.remote.box_state import unload_on_server

        for server in servers:
            try:
                said = unload_on_server(server)
            except BackendError as error:
                self.app.call_from_thread(
                    self.notify, error.message, title=error.title, severity="error"
                )
                continue
            self.app.call_from_thread(self.notify, said, title="Unloaded")
        self.app.call_from_thread(self.read_now)


async def mount_remote_box(
    screen: Screen[object],
    settings: Settings,
    after: Widget,
    chat_spec: Callable[[], ModelSpec | None] | None = None,
) -> None:
    """Under a screen's device gauge: the configured servers' boxes (nothing without any);
    `chat_spec` gives the chat's model, named on its server's box."""
    if settings.servers and not settings.offline:
        servers = [entry.to_config() for entry in settings.servers]
        chat = (lambda: on_server(chat_spec())) if chat_spec is not None else None
        await screen.mount(RemoteBoxGauge(servers, chat_model=chat), after=after)


def on_server(spec: ModelSpec | None) -> tuple[str, str] | None:
    """(server name, model id) for a model that runs on a server; None for a local one."""
    if spec is None or spec.server is None:
        return None
    return spec.server.name, spec.remote_model or spec.name
