"""Pick an image model: diffusers pipelines and single-file checkpoints found on disk.

Discovery runs in a worker (it scans the HF cache); dismisses with a ModelSpec or None.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from backends.base import ModelSpec
from backends.registry import ENGINE_LABELS
from backends.settings import Settings


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

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings
        self._specs: list[ModelSpec] = []

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

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _discover(self) -> None:
        from backends.image.catalog import discover_image_models

        self.post_message(self.Found(discover_image_models(self._settings)))

    def on_image_model_picker_found(self, message: Found) -> None:
        self._specs = message.specs
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(f"{spec.name}  ({ENGINE_LABELS.get(spec.engine, spec.engine)})", id=str(n))
                for n, spec in enumerate(self._specs)
            ]
        )
        hint = self.query_one("#image-picker-hint", Static)
        if self._specs:
            options.highlighted = 0
            hint.update("Enter loads · Esc closes")
        else:
            hint.update(
                "No image models yet. Download one from the Hub (F3, filter library "
                "diffusers), or add a folder of checkpoints to model_dirs in config.toml."
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._specs[int(event.option.id or 0)])

    def action_close(self) -> None:
        self.dismiss(None)
