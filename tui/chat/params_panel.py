"""Side panel: sampling parameters and the system prompt for the next answers."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, TextArea

from backends.base import GenerationParams
from backends.settings import SamplingDefaults, SettingsError, validated

# (field, label, input type, tooltip) - fields of backends.settings.SamplingDefaults
FIELDS: list[tuple[str, str, str, str]] = [
    ("temperature", "Temperature", "number", "0 is greedy; higher is more varied."),
    ("top_p", "Top p", "number", "Nucleus sampling mass (0-1]."),
    ("top_k", "Top k", "integer", "0 disables top-k."),
    ("max_new_tokens", "Max new tokens", "integer", "Longest answer, in tokens."),
    ("repetition_penalty", "Repetition penalty", "number", "1.0 is off."),
    ("seed", "Seed", "integer", "Empty: a new random seed each answer."),
]


class InvalidParam(ValueError):
    """A parameter that does not validate; `field` names its input (`#param-<field>`)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class ParamsPanel(VerticalScroll):
    """Reads and validates the parameters; invalid values raise ValueError with a clear text."""

    def __init__(self, params: GenerationParams, system_prompt: str, *, id: str | None = None):
        super().__init__(id=id)
        self._initial = params
        self._initial_system = system_prompt

    def compose(self) -> ComposeResult:
        yield Label("Sampling", classes="panel-title")
        for name, label, kind, tip in FIELDS:
            yield Label(label, classes="field-label")
            value = getattr(self._initial, name)
            field = Input(
                "" if value is None else str(value),
                type=kind,  # type: ignore[arg-type]
                id=f"param-{name}",
                compact=True,
                placeholder="random" if name == "seed" else "",
            )
            field.tooltip = tip
            yield field
        yield Label("System prompt", classes="field-label")
        yield TextArea(self._initial_system, id="system-prompt", soft_wrap=True, compact=True)

    def params(self) -> GenerationParams:
        values: dict[str, object] = {}
        for name, _label, _, _ in FIELDS:
            raw = self.query_one(f"#param-{name}", Input).value.strip()
            if raw == "" and name == "seed":
                values[name] = None
            elif raw == "":
                continue  # empty: the default
            else:
                values[name] = raw
        try:
            return validated(SamplingDefaults, values).to_params()
        except SettingsError as exc:
            problem = exc.problems[0]
            field = str(problem.loc[0]) if problem.loc else "a field"
            label = next((lbl for n, lbl, _, _ in FIELDS if n == field), field)
            message = f"{label}: {problem.message}. Fix it in the side panel."
            raise InvalidParam(message, field) from None

    def show_field(self, field: str) -> None:
        """Open the panel (if closed) with the cursor in `field`'s input."""
        self.display = True
        inputs = self.query(f"#param-{field}")
        (inputs.first() if inputs else self.query_one(Input)).focus()

    def set_params(self, params: GenerationParams) -> None:
        for name, _, _, _ in FIELDS:
            value = getattr(params, name)
            self.query_one(f"#param-{name}", Input).value = "" if value is None else str(value)

    @property
    def system_prompt(self) -> str:
        return self.query_one("#system-prompt", TextArea).text

    @system_prompt.setter
    def system_prompt(self, text: str) -> None:
        self.query_one("#system-prompt", TextArea).text = text
