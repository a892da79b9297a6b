"""The Speech screen's options row: language, translate and skip-silence.

The switches say On or Off in words, not by colour alone (a colour-blind user, a
monochrome terminal). The language is checked before any audio is read, so a typo is
reported as an unknown language, never as an unreadable file.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Label

from backends.speech.languages import language_code
from backends.speech.protocol import TranscribeOptions


class OnOffCheckbox(Checkbox):
    """A checkbox whose label ends in ": On" or ": Off"."""

    def __init__(self, name: str, value: bool, *, id: str) -> None:
        self._base = name
        super().__init__(self._text(value), value, id=id, compact=True)

    def _text(self, value: bool) -> str:
        return f"{self._base}: {'On' if value else 'Off'}"

    @on(Checkbox.Changed)
    def _relabel(self, event: Checkbox.Changed) -> None:
        if event.checkbox is self:
            self.label = self._text(self.value)


class SpeechOptionsRow(Horizontal):
    DEFAULT_CSS = """
    SpeechOptionsRow #speech-language { width: 10; margin-right: 1; }
    SpeechOptionsRow Checkbox { margin-right: 1; }
    """

    def __init__(
        self, language: str | None, translate: bool, vad: bool, *, classes: str = ""
    ) -> None:
        super().__init__(classes=classes)
        self._initial = (language or "auto", translate, vad)

    def compose(self) -> ComposeResult:
        language, translate, vad = self._initial
        yield Label("Language")
        yield Input(language, id="speech-language", compact=True)
        yield OnOffCheckbox("Translate to English", translate, id="speech-translate")
        yield OnOffCheckbox("Skip silence (VAD)", vad, id="speech-vad")

    @property
    def language(self) -> str:
        return self.query_one("#speech-language", Input).value

    def options(self, beam_size: int) -> TranscribeOptions:
        """The chosen options; UnsupportedOption when the language is not one Whisper knows."""
        return TranscribeOptions(
            language=language_code(self.language),
            task="translate"
            if self.query_one("#speech-translate", Checkbox).value
            else "transcribe",
            vad_filter=self.query_one("#speech-vad", Checkbox).value,
            beam_size=beam_size,
        )

    def toggle(self, which: str) -> None:
        """ "translate" or "vad"."""
        self.query_one(f"#speech-{which}", Checkbox).toggle()
