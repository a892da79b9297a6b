"""Pick an image model: diffusers pipelines and single-file checkpoints found on disk, and the
image models the configured servers offer (A1111 / Forge, ComfyUI, OpenAI Images API).

Discovery runs in workers (the HF cache scan, the servers' probe: a down server only adds a
line saying so); dismisses with a ModelSpec or None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from backends.base import ModelSpec
from backends.registry import ENGINE_LABELS, engine_kind
from backends.settings import Settings


def image_model_label(spec: ModelSpec) -> str:
    """ "sd_xl_base_1.0.safetensors  (ComfyUI on gpu-box)"; local ones name only the engine."""
    engine = ENGINE_LABELS.get(spec.engine, spec.engine)
    where = f" on {spec.server.name}" if spec.server is not None else ""
    return f"{spec.name}  ({engine}{where})"


class ImageModelPicker(ModalScreen[ModelSpec | None]):
    DEFAULT_CSS = """
    ImageModelPicker { align: center middle; }
    ImageModelPicker > Vertical {
        width: 90; max-width: 100%; height: auto; max-height: 80%;
        padding: 1 2; background: $panel; border: thick $primary;
    }
    ImageModelPicker OptionList { height: auto; max-height: 20; }
    ImageModelPicker .picker-hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="image_picker.close")]

    @dataclass
    class Found(Message):
        specs: list[ModelSpec]
        failures: list[str] = field(default_factory=list)  # "server: why it is not listed"

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings
        self._specs: list[ModelSpec] = []
        self._failures: list[str] = []
        self._pending = 2 if settings.servers else 1

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Image models", classes="panel-title")
            yield OptionList(id="image-models")
            yield Static(
                "Looking in the Hugging Face cache and your model folders…",
                classes="picker-hint",
                id="image-picker-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._discover()
        if self._settings.servers:
            self._discover_servers()

    @work(thread=True, group="image-picker-local", exit_on_error=False)
    def _discover(self) -> None:
        from backends.image.catalog import discover_image_models

        self.post_message(self.Found(discover_image_models(self._settings)))

    @work(thread=True, group="image-picker-servers", exit_on_error=False)
    def _discover_servers(self) -> None:
        from backends.models.server_models import discover_server_models

        servers = getattr(self.app, "servers", None)
        specs, failures = discover_server_models(self._settings, servers and servers.known())
        images = [s for s in specs if engine_kind(s.engine) == "image"]
        self.post_message(self.Found(images, [f"{n}: {e.message}" for n, e in failures]))

    def on_image_model_picker_found(self, message: Found) -> None:
        self._specs = [*self._specs, *message.specs]
        self._failures.extend(message.failures)
        self._pending -= 1
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(
            [Option(image_model_label(spec), id=str(n)) for n, spec in enumerate(self._specs)]
        )
        hint = self.query_one("#image-picker-hint", Static)
        notes = "\n".join(self._failures)
        if self._specs:
            options.highlighted = highlighted or 0
            hint.update("\n".join(filter(None, [notes, "Enter loads · Esc closes"])))
        elif self._pending > 0:
            hint.update("\n".join(filter(None, [notes, "Asking the servers…"])))
        else:
            hint.update(
                "\n".join(
                    filter(
                        None,
                        [
                            notes,
                            "No image models yet. Download one from the Hub (F3, filter "
                            "library diffusers), add a folder of checkpoints to model_dirs, "
                            "or an image server under [[servers]] in config.toml.",
                        ],
                    )
                )
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._specs[int(event.option.id or 0)])

    def action_close(self) -> None:
        self.dismiss(None)
