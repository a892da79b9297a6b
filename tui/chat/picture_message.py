"""A picture made in the chat, as its own message: progress while it is made, then the
picture, a caption, and its parameters one key away (Enter); `a` attaches it to the next
message for a vision model.

The body of a `MessageView` whose role is `PICTURE_ROLE`; the view keeps the prompt as its
text and the stored PNG as its image, so a reopened chat (and a message list that unmounts
and remounts old messages) builds the same thing from the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar, Static

from tui.chat.message_images import MessageImages, _image_widget

if TYPE_CHECKING:
    from backends.image.protocol import ImageStep
    from backends.store.gallery import GalleryImage

PICTURE_ROLE = "picture"
PICTURE_WIDTH = 32  # cells; half-cells draw 32×32 px, Kitty/Sixel scale the PNG to it
PICTURE_HEIGHT = 16
HINT = "Enter parameters · a attach to the next message"


def picture_stats(saved: GalleryImage, *, seconds: float | None = None) -> dict[str, Any]:
    """What a stored picture message keeps beside its PNG: the gallery row's figures and the
    A1111 parameters text (as in the PNG)."""
    return {
        "gallery_id": saved.id,
        "path": saved.path,
        "model": saved.model,
        "seed": saved.seed,
        "width": saved.width,
        "height": saved.height,
        "parameters": saved.parameters,
        "seconds": seconds,
    }


def picture_caption(stats: dict[str, Any]) -> str:
    """ "64×64 · seed 42 · 1.3 s · gallery #3" (the parts that are known)."""
    parts = []
    if stats.get("width") and stats.get("height"):
        parts.append(f"{stats['width']}×{stats['height']}")
    if stats.get("seed") is not None:
        parts.append(f"seed {stats['seed']}")
    if isinstance(stats.get("seconds"), (int, float)):
        parts.append(f"{stats['seconds']:.1f} s")
    if stats.get("gallery_id") is not None:
        parts.append(f"gallery #{stats['gallery_id']}")
    return " · ".join(parts)


class PictureBody(Vertical, can_focus=True):
    """The picture (or its progress) inside its message."""

    DEFAULT_CSS = f"""
    PictureBody {{ height: auto; }}
    PictureBody:focus {{ background: $boost; }}
    PictureBody .picture-image {{ width: {PICTURE_WIDTH}; height: {PICTURE_HEIGHT}; }}
    PictureBody .picture-prompt, PictureBody .picture-caption {{ height: auto; }}
    PictureBody .picture-prompt {{ text-style: italic; }}
    PictureBody .picture-hint {{ color: $text-muted; }}
    PictureBody ProgressBar {{ width: 40; }}
    PictureBody.-failed .picture-caption {{ color: $error; }}
    """

    BINDINGS = [
        Binding("enter,p", "show_parameters", "Parameters", id="picture.parameters"),
        Binding("a", "attach", "Attach to next message", id="picture.attach"),
    ]

    @dataclass
    class Stepped(Message):
        """A step of the picture being made (posted by the chat's picture worker)."""

        step: ImageStep

    @dataclass
    class Said(Message):
        """A line of progress that is not a step (loading the model, waiting)."""

        text: str

    @dataclass
    class AttachRequested(Message):
        """Attach this picture to the next message."""

        path: str

    def __init__(self, prompt: str, path: str | None, stats: dict[str, Any] | None) -> None:
        super().__init__(classes="picture")
        self.prompt = prompt
        self.path = path
        self.stats = stats or {}
        self._done = path is not None

    def compose(self) -> ComposeResult:
        yield Static(self.prompt, classes="picture-prompt", markup=False)
        if self.path is None:
            # total=1, not None: an indeterminate bar redraws all the time (engine CPU).
            yield ProgressBar(
                total=1, show_eta=False, show_percentage=False, classes="picture-progress"
            )
            yield Static("", classes="picture-caption", markup=False)
            return
        yield from self._picture_parts(self.path)

    def _picture_parts(self, path: str) -> ComposeResult:
        there = Path(path).is_file()
        image = _image_widget(Path(path), MessageImages.renderer) if there else None
        if image is not None:
            image.add_class("picture-image")
            yield image
        caption = picture_caption(self.stats)
        if image is None:
            missing = "cannot show" if there else "picture missing"
            caption = f"[{missing}: {Path(path).name}] {caption}"
        yield Static(caption, classes="picture-caption", markup=False)
        yield Static(HINT, classes="picture-hint", markup=False)

    def say(self, text: str) -> None:
        if not self._done:
            self.query_one(".picture-caption", Static).update(text)

    def on_picture_body_said(self, message: Said) -> None:
        self.say(message.text)

    def on_picture_body_stepped(self, message: Stepped) -> None:
        if self._done:
            return  # a late step after the end (steps and the end take different routes)
        from tui.images.job_progress import format_step

        step = message.step
        self.query_one(ProgressBar).update(total=step.total or None, progress=step.step)
        self.say(format_step(step) + " · Esc cancels")

    async def show_picture(self, path: str, stats: dict[str, Any]) -> None:
        self._done = True
        self.path, self.stats = path, stats
        await self.remove_children(".picture-progress, .picture-caption")
        await self.mount_all(list(self._picture_parts(path)))

    def failed(self, text: str) -> None:
        self._done = True
        self.add_class("-failed")
        for bar in self.query(ProgressBar):
            bar.display = False
        self.query_one(".picture-caption", Static).update(text)

    def action_show_parameters(self) -> None:
        if self.path is None:
            return
        self.app.push_screen(PictureParametersScreen(self.path, self.stats))

    def action_attach(self) -> None:
        if self.path is not None:
            self.post_message(self.AttachRequested(self.path))


class PictureParametersScreen(ModalScreen[None]):
    """The picture's A1111 parameters (as in the PNG) and where it is; any key closes."""

    DEFAULT_CSS = """
    PictureParametersScreen { align: center middle; background: $background 60%; }
    PictureParametersScreen > Vertical {
        width: 90; max-width: 100%; height: auto; max-height: 80%;
        padding: 1 2; background: $panel; border: thick $primary;
    }
    PictureParametersScreen VerticalScroll { height: auto; max-height: 20; }
    PictureParametersScreen .picture-where { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="picture_parameters.close")]

    def __init__(self, path: str, stats: dict[str, Any]) -> None:
        super().__init__()
        self._path = path
        self._stats = stats

    def compose(self) -> ComposeResult:
        parameters = self._stats.get("parameters")
        if not parameters:
            from backends.image.png_metadata import read_parameters

            parameters = read_parameters(Path(self._path)) or "(no parameters in this PNG)"
        where = self._stats.get("path") or self._path
        with Vertical():
            yield Label("Picture parameters", classes="panel-title")
            with VerticalScroll():
                yield Static(str(parameters), id="picture-parameters", markup=False)
            yield Static(f"{where}\nEsc closes", classes="picture-where", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
