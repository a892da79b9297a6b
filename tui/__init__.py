"""The Textual app: screens, widgets, styles and bindings. No model logic lives here."""

__version__ = "0.1.0"
