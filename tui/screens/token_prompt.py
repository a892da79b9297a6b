"""Ask for a Hugging Face token when a repo is gated or private, without ever showing it.

The modal names the repo, links its access page and the token page, and takes the token in a
password Input (drawn as bullets, so it is not in the screen, a screenshot or an exported SVG).
On Save it stores the token with `hub_token.save_token` (0600) and dismisses with the
`HubToken`; Esc dismisses with None. The token is never notified, logged or put in a message.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from backends.hub_token import HubToken, save_token

TOKENS_PAGE = "https://huggingface.co/settings/tokens"


class TokenPrompt(ModalScreen[HubToken | None]):
    """`TokenPrompt(repo_id, reason)`: dismisses with the saved HubToken, or None."""

    DEFAULT_CSS = """
    TokenPrompt { align: center middle; }
    TokenPrompt > Vertical {
        width: 76;
        max-width: 100%;
        height: auto;
        padding: 0 1;
        border: round $warning;
        background: $surface;
    }
    TokenPrompt #token-title { text-style: bold; color: $warning; }
    TokenPrompt .para { margin-top: 1; }
    TokenPrompt #token-error { color: $error; height: auto; }
    TokenPrompt Input { margin-top: 1; }
    TokenPrompt Horizontal { height: 1; margin-top: 1; align-horizontal: right; }
    TokenPrompt Button { margin-left: 2; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="token.cancel")]

    def __init__(self, repo_id: str, reason: str = "") -> None:
        super().__init__()
        self.repo_id = repo_id
        self.reason = reason

    def compose(self) -> ComposeResult:
        page = f"https://huggingface.co/{self.repo_id}"
        with Vertical():
            yield Static(f"{self.repo_id} needs access", id="token-title")
            yield Static(
                self.reason or f"Request access at {page} if it is gated.",
                classes="para",
                markup=False,
            )
            yield Static(
                f"Paste a read token (create one at {TOKENS_PAGE}). "
                "It is kept only on this machine, readable by you alone (0600).",
                classes="para",
                markup=False,
            )
            yield Input(placeholder="hf_…", password=True, id="token-input", compact=True)
            yield Static("", id="token-error")
            with Horizontal():
                yield Button("Cancel", id="token-cancel", compact=True)
                yield Button("Save token", variant="primary", id="token-save", compact=True)

    def on_mount(self) -> None:
        self.query_one("#token-input", Input).focus()

    @on(Input.Submitted, "#token-input")
    @on(Button.Pressed, "#token-save")
    def _save(self) -> None:
        field = self.query_one("#token-input", Input)
        if not field.value.strip():
            self._error("Paste a token first (it starts with hf_).")
            return
        try:
            token = save_token(field.value)
        except OSError as exc:
            self._error(
                f"Could not save the token: {exc.strerror}. Check the config folder's permissions."
            )
            return
        field.value = ""
        self.dismiss(token)

    def _error(self, text: str) -> None:
        self.query_one("#token-error", Static).update(text)

    @on(Button.Pressed, "#token-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
