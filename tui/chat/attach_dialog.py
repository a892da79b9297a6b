"""F9 in the chat: a dialog asking for an image path (Tab completes) to attach to the next
message; the checked file goes to the attachment bar (tui/chat/attachment_bar.py).

Apart from the bar, which the chat mounts with its first frame: the dialog's path input and
image checks are imported when F9 is first pressed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from backends.chat.images import IMAGE_SUFFIXES
from backends.errors import BackendError
from backends.store.attachments import check_image_file
from tui.chat.attachment_bar import AttachmentBar
from tui.chat.prompt_input import PromptInput
from tui.widgets.path_input import PathInput

if TYPE_CHECKING:
    from tui.chat.chat_host import ChatHost


class AttachImageScreen(ModalScreen[Path | None]):
    """Ask for an image path; dismisses with a checked image file, or None."""

    DEFAULT_CSS = """
    AttachImageScreen { align: center middle; }
    AttachImageScreen > Vertical {
        width: 80%; max-width: 100; height: auto; padding: 1 2;
        border: round $primary; background: $panel;
    }
    AttachImageScreen #attach-path { margin: 1 0; }
    AttachImageScreen #attach-error { color: $error; height: auto; }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="attach.cancel")]

    def __init__(self, warning: str = "") -> None:
        super().__init__()
        self._warning = warning

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Attach an image (PNG, JPEG, WebP, GIF, BMP)")
            yield PathInput(
                placeholder="path to the image  (Tab completes · Enter attaches · Esc cancels)",
                suffixes=IMAGE_SUFFIXES,
                id="attach-path",
            )
            yield Static(self._warning, id="attach-error", markup=False)

    def on_mount(self) -> None:
        self.query_one(PathInput).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = self.query_one(PathInput).path
        if path is None:
            return
        try:
            check_image_file(path)
        except BackendError as exc:
            self.query_one("#attach-error", Static).update(exc.message)
            return
        self.dismiss(path.absolute())


def ask_for_image(screen: ChatHost) -> None:
    """F9: ask for an image to attach to the next message (a path, Tab completes); a
    text-only model is named in the dialog."""
    engine, spec = screen.manager.engine, screen.manager.spec
    warning = ""
    if engine is not None and not engine.capabilities.vision and spec is not None:
        warning = f"{spec.name} reads text only: pick a vision model (ctrl+o) to send images."

    def attached(path: object) -> None:
        if path is not None:
            screen.query_one(AttachmentBar).add(path)
        screen.query_one(PromptInput).focus()

    screen.app.push_screen(AttachImageScreen(warning), attached)
