"""The image form: prompt, negative, steps, CFG, seed, size, scheduler, batch, LoRA, start image.

`read()` checks every value (sizes against the model's multiple rule, the LoRA file) and
raises `FormProblem` with a sentence the user can act on and the field to fix; `fill()` puts a
past request back ("reuse parameters"). A LoRA path is checked as soon as it is entered; for a
server's model (`server_loras`) the field completes and checks the names the server lists.
Fields the loaded model cannot use are disabled, from its capability flags.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select, Static, TextArea

from backends.image.lora_file import lora_problem
from backends.image.png_metadata import lora_label
from backends.image.protocol import ImageCapabilities, ImageRequest, check_size

SEED_MODES = [("random", "random"), ("fixed", "fixed"), ("reuse last", "reuse")]
SIZE_PRESETS = [
    (512, 512),
    (768, 768),
    (1024, 1024),
    (512, 768),
    (768, 512),
    (832, 1216),
    (1216, 832),
    (1024, 576),
    (576, 1024),
]
MODEL_SCHEDULER = "model default"
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class FormValues:
    """A request template (seed still to resolve) and how many images to make."""

    request: ImageRequest
    seed_mode: str  # random | fixed | reuse
    batch: int


class FormProblem(ValueError):
    """A value the form cannot use: the sentence to show and the field to put the cursor in."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _int(raw: str, label: str, low: int, high: int, field: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise FormProblem(f"{label} must be a whole number ({low}-{high}).", field) from None
    if not low <= value <= high:
        raise FormProblem(f"{label} must be between {low} and {high}; it is {value}.", field)
    return value


def _float(raw: str, label: str, low: float, high: float, field: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise FormProblem(f"{label} must be a number ({low:g}-{high:g}).", field) from None
    if not low <= value <= high:
        raise FormProblem(f"{label} must be between {low:g} and {high:g}; it is {value:g}.", field)
    return value


class ImageForm(VerticalScroll):
    def __init__(self, *, negative_prompt: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self._negative = negative_prompt
        self._caps = ImageCapabilities()
        self._start_image: str | None = None

    def compose(self) -> ComposeResult:
        yield Label("Prompt", classes="field-label")
        yield TextArea(id="image-prompt", soft_wrap=True, compact=True)
        yield Label("Negative prompt", classes="field-label")
        yield TextArea(self._negative, id="image-negative", soft_wrap=True, compact=True)
        with Horizontal(classes="field-row"):
            yield Label("Steps", classes="row-label")
            yield Input("20", type="integer", id="image-steps", compact=True)
            yield Label("CFG", classes="row-label")
            yield Input("7", type="number", id="image-cfg", compact=True)
        with Horizontal(classes="field-row"):
            yield Label("Seed", classes="row-label")
            yield Select(
                SEED_MODES, value="random", allow_blank=False, id="image-seed-mode", compact=True
            )
            yield Input("", type="integer", id="image-seed", compact=True, placeholder="seed")
        with Horizontal(classes="field-row"):
            yield Label("Size", classes="row-label")
            yield Select(
                [], prompt="preset", id="image-size-preset", compact=True, allow_blank=True
            )
        with Horizontal(classes="field-row"):
            yield Label("W × H", classes="row-label")
            yield Input("512", type="integer", id="image-width", compact=True)
            yield Input("512", type="integer", id="image-height", compact=True)
        with Horizontal(classes="field-row"):
            yield Label("Sampler", classes="row-label")
            yield Select(
                [(MODEL_SCHEDULER, MODEL_SCHEDULER)],
                value=MODEL_SCHEDULER,
                allow_blank=False,
                id="image-scheduler",
                compact=True,
            )
        with Horizontal(classes="field-row"):
            yield Label("Batch", classes="row-label")
            yield Input("1", type="integer", id="image-batch", compact=True)
        with Horizontal(classes="field-row"):
            yield Label("LoRA", classes="row-label")
            yield Input("", id="image-lora", compact=True, placeholder="file.safetensors")
            yield Input("1.0", type="number", id="image-lora-weight", compact=True)
        yield Static("", id="image-lora-note", markup=False)
        with Horizontal(classes="field-row"):
            yield Label("Start", classes="row-label")
            yield Static("none (text to image)", id="image-start", markup=False)
            yield Input("0.6", type="number", id="image-strength", compact=True)

    def on_mount(self) -> None:
        self.set_capabilities(self._caps)

    # -- capabilities ----------------------------------------------------------------------

    def set_capabilities(self, caps: ImageCapabilities, *, defaults: bool = False) -> None:
        """Offer what the loaded model supports; `defaults` also sets its size, steps and CFG."""
        self._caps = caps
        multiple = caps.size_multiple
        presets = [p for p in SIZE_PRESETS if p[0] % multiple == 0 and p[1] % multiple == 0]
        if caps.default_size not in presets:
            presets.insert(0, caps.default_size)
        self.query_one("#image-size-preset", Select).set_options(
            [(f"{w}×{h}", f"{w}x{h}") for w, h in presets]
        )
        scheduler = self.query_one("#image-scheduler", Select)
        current = scheduler.value
        options = [MODEL_SCHEDULER, *caps.schedulers]
        scheduler.set_options([(name, name) for name in options])
        scheduler.value = current if current in options else MODEL_SCHEDULER
        self.query_one("#image-negative", TextArea).disabled = not caps.negative_prompt
        self.query_one("#image-cfg", Input).disabled = not caps.cfg
        scheduler.disabled = not caps.schedulers
        self.query_one("#image-lora", Input).disabled = not caps.lora
        self.query_one("#image-lora-weight", Input).disabled = not caps.lora
        self._offer_server_loras(caps.server_loras)
        self.query_one("#image-strength", Input).disabled = not caps.image_to_image
        if defaults:
            width, height = caps.default_size
            self.query_one("#image-width", Input).value = str(width)
            self.query_one("#image-height", Input).value = str(height)
            self.query_one("#image-steps", Input).value = str(caps.default_steps)
            self.query_one("#image-cfg", Input).value = f"{caps.default_cfg:g}"

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "image-size-preset" and isinstance(event.value, str):
            width, height = event.value.split("x")
            self.query_one("#image-width", Input).value = width
            self.query_one("#image-height", Input).value = height
        elif event.select.id == "image-seed-mode":
            seed = self.query_one("#image-seed", Input)
            seed.disabled = event.value != "fixed"

    # -- start image -----------------------------------------------------------------------

    @property
    def start_image(self) -> str | None:
        return self._start_image

    def set_start_image(self, path: str | None) -> None:
        self._start_image = path
        text = Path(path).name if path else "none (text to image)"
        self.query_one("#image-start", Static).update(text)

    # -- read and fill ---------------------------------------------------------------------

    def read(self) -> FormValues:
        """The form as a request template; ValueError with a clear sentence when invalid."""
        prompt = self.query_one("#image-prompt", TextArea).text.strip()
        if not prompt:
            raise FormProblem(
                "Write a prompt first (what the picture should show).", "image-prompt"
            )

        def value(field: str) -> str:
            return self.query_one(f"#{field}", Input).value

        steps = _int(value("image-steps"), "Steps", 1, 500, "image-steps")
        cfg = _float(value("image-cfg") or "0", "CFG", 0.0, 50.0, "image-cfg")
        width = _int(value("image-width"), "Width", 8, 8192, "image-width")
        height = _int(value("image-height"), "Height", 8, 8192, "image-height")
        problem = check_size(width, height, self._caps.size_multiple)
        if problem:
            raise FormProblem(problem, "image-height" if "Height" in problem else "image-width")
        batch = _int(value("image-batch"), "Batch count", 1, 100, "image-batch")
        mode = str(self.query_one("#image-seed-mode", Select).value)
        seed = 0
        if mode == "fixed":
            seed = _int(value("image-seed"), "Seed", 0, MAX_SEED, "image-seed")
        scheduler = str(self.query_one("#image-scheduler", Select).value)
        lora = value("image-lora").strip() or None
        if lora and not self._caps.lora:
            lora = None
        if lora and (problem := self._lora_problem(lora)):
            raise FormProblem(problem, "image-lora")
        if lora and self._caps.server_loras:
            lora = server_lora(lora, self._caps.server_loras)
        weight = value("image-lora-weight") or "1"
        lora_weight = _float(weight, "LoRA weight", -5.0, 5.0, "image-lora-weight")
        strength = _float(value("image-strength") or "0.6", "Strength", 0.01, 1.0, "image-strength")
        negative = self.query_one("#image-negative", TextArea).text.strip()
        request = ImageRequest(
            prompt=prompt,
            negative_prompt=negative if self._caps.negative_prompt else "",
            steps=steps,
            cfg_scale=cfg,
            seed=seed,
            width=width,
            height=height,
            scheduler=None if scheduler == MODEL_SCHEDULER else scheduler,
            lora=lora,
            lora_weight=lora_weight,
            init_image=self._start_image,
            strength=strength,
        )
        return FormValues(request, mode, batch)

    def fill(self, request: ImageRequest) -> None:
        """Put a past request back, with its seed fixed so the same picture can be made."""
        self.query_one("#image-prompt", TextArea).text = request.prompt
        self.query_one("#image-negative", TextArea).text = request.negative_prompt
        self.query_one("#image-steps", Input).value = str(request.steps)
        self.query_one("#image-cfg", Input).value = f"{request.cfg_scale:g}"
        self.query_one("#image-seed-mode", Select).value = "fixed"
        seed = self.query_one("#image-seed", Input)
        seed.disabled = False
        seed.value = str(request.seed)
        self.query_one("#image-width", Input).value = str(request.width)
        self.query_one("#image-height", Input).value = str(request.height)
        if request.lora and self._caps.lora:  # a name from `<lora:name:weight>`
            field = self.query_one("#image-lora", Input)
            if Path(field.value.strip()).stem != Path(request.lora).stem:
                field.value = request.lora  # the note below says to give its path
            self.query_one("#image-lora-weight", Input).value = f"{request.lora_weight:g}"
            self._check_lora()
        if request.scheduler:  # an A1111 sampler name, or one of ours
            from backends.image.samplers import a1111_sampler

            wanted = a1111_sampler(request.scheduler)
            match = [n for n in self._caps.schedulers if a1111_sampler(n) == wanted]
            scheduler = self.query_one("#image-scheduler", Select)
            scheduler.value = match[0] if match else MODEL_SCHEDULER
        if request.init_image is not None:
            self.query_one("#image-strength", Input).value = f"{request.strength:g}"

    # -- the LoRA path, checked when entered ------------------------------------------------

    def _offer_server_loras(self, names: tuple[str, ...]) -> None:
        """A server's model: the field completes its LoRA names and the note lists them."""
        field = self.query_one("#image-lora", Input)
        if names:
            field.placeholder = f"one of {len(names)} LoRAs on the server"
            field.suggester = SuggestFromList(names, case_sensitive=False)
        else:
            field.placeholder = "file.safetensors"
            field.suggester = None
        self._show_lora_note(None)

    def _lora_problem(self, lora: str) -> str | None:
        names = self._caps.server_loras
        if not names:
            return lora_problem(lora)
        if server_lora(lora, names) is not None:
            return None
        return f"The server has no LoRA {lora!r}. It lists: {_listed(names)}."

    def _show_lora_note(self, problem: str | None) -> None:
        note = self.query_one("#image-lora-note", Static)
        names = self._caps.server_loras
        text = problem or (f"LoRAs on the server: {_listed(names)}" if names else "")
        note.update(text)
        note.display = bool(text)

    @on(Input.Submitted, "#image-lora")
    @on(Input.Blurred, "#image-lora")
    def _check_lora(self) -> None:
        lora = self.query_one("#image-lora", Input).value.strip()
        problem = self._lora_problem(lora) if lora else None
        self._show_lora_note(problem)
        if problem:
            self.notify(problem, title="LoRA not found", severity="warning")

    @on(Input.Changed, "#image-lora")
    def _lora_edited(self) -> None:
        self._show_lora_note(None)  # checked again when entered


def server_lora(typed: str, names: tuple[str, ...]) -> str | None:
    """The server's name for what was typed: the name itself, or its label (no folder, no
    suffix: what `<lora:...>` in a reused PNG carries); None when the server has none."""
    if typed in names:
        return typed
    wanted = lora_label(typed).lower()
    return next((n for n in names if lora_label(n).lower() == wanted), None)


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")


def resolve_seeds(values: FormValues, last_seed: int | None) -> list[int]:
    """One seed per image: random, fixed or the last one used; a batch counts up from it."""
    if values.seed_mode == "fixed":
        first = values.request.seed
    elif values.seed_mode == "reuse" and last_seed is not None:
        first = last_seed
    else:
        first = random.randint(0, MAX_SEED)
    return [(first + n) % (MAX_SEED + 1) for n in range(values.batch)]
