"""The memory offer made before an image model loads: on a GPU that cannot hold it beside
the chat model, ask whether to unload that first.

One question for every place that loads an image model (the Images screen, `/image` in the
chat), so both say the same and honour `images.unload_chat_model` alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backends.base import ModelSpec
    from backends.device import DeviceMonitor
    from backends.settings import Settings


def room_question(
    app: Any, settings: Settings, spec: ModelSpec, monitor: DeviceMonitor | None = None
) -> str | None:
    """The question to ask when the chat model holds GPU memory `spec` needs; None when there
    is room, no chat model is loaded, or the setting says never. Samples the device: call it
    from a worker."""
    manager = getattr(app, "manager", None)
    chat = manager.spec if manager is not None else None
    if chat is None or settings.images.unload_chat_model == "never":
        return None
    from backends.image.memory import gpu_short_of_room, model_bytes
    from tui.human_units import human_bytes

    if monitor is None:
        from backends.device import DeviceMonitor

        monitor = DeviceMonitor()
    base = settings.images.base_pipelines.get(spec.path or "")
    check = gpu_short_of_room(monitor.sample(), model_bytes(spec, base))
    if check is None:
        return None
    return (
        f"{spec.name} needs about {human_bytes(check.needed)} of GPU memory and "
        f"{human_bytes(check.free)} is free. Unload the chat model {chat.name} first?"
    )
