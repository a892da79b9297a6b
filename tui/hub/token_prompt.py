"""Ask for a Hugging Face token when a repo is gated or private, without ever showing it.

The modal names the repo, links its access page and the token page, and takes the token in a
password Input (drawn as bullets, so it is not in the screen, a screenshot or an exported SVG).
On Save it first checks the token with `verify` when one is given (e.g. the Hub's whoami, in a
thread worker): a token the Hub rejects is not saved and the prompt says so. Then it stores the
token with `hub_token.save_token` (0600) and dismisses with the `HubToken`; Esc dismisses with
None. The token is never notified, logged or put in a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from backends.errors import AuthRequired, BackendError
from backends.hub.token import HubToken, save_token

TOKENS_PAGE = "https://huggingface.co/settings/tokens"


class TokenPrompt(ModalScreen[HubToken | None]):
    """`TokenPrompt(repo_id, reason="", verify=None)`: dismisses with the saved HubToken, or None.

    `verify(token)` returns the account name or raises AuthRequired (rejected token); other
    BackendErrors (offline, say) let the token be saved unverified.
    """

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

    @dataclass
    class Checked(Message):
        token: HubToken
        problem: str | None  # why the Hub rejected it; None = accepted or not checkable

    def __init__(
        self,
        repo_id: str,
        reason: str = "",
        verify: Callable[[HubToken], str] | None = None,
    ) -> None:
        super().__init__()
        self.repo_id = repo_id
        self.reason = reason
        self.verify = verify

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
    def _submit(self) -> None:
        field = self.query_one("#token-input", Input)
        if not field.value.strip():
            self._error("Paste a token first (it starts with hf_).")
            return
        token = HubToken(field.value, "app")
        if self.verify is None:
            self._save(token)
            return
        self._error("Checking the token with the Hub…")
        self._check(token)

    @work(thread=True, exclusive=True, group="token-check", exit_on_error=False)
    def _check(self, token: HubToken) -> None:
        assert self.verify is not None
        try:
            self.verify(token)
        except AuthRequired:
            problem = "The Hub rejected this token. Copy it again, or create a new read token."
            self.post_message(self.Checked(token, problem))
            return
        except BackendError:
            pass  # offline or the Hub is down: keep the token, it is checked on first use
        self.post_message(self.Checked(token, None))

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        if message.problem is not None:
            self._error(message.problem)
            return
        self._save(message.token)

    def _save(self, token: HubToken) -> None:
        field = self.query_one("#token-input", Input)
        try:
            token = save_token(token.reveal())
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
