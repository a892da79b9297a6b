"""The gallery: past images as thumbnails (newest first), search by prompt, full parameters.

Enter opens one large; r reuses its parameters in the form, i starts image-to-image from it,
d deletes it (PNG and row, after a confirmation), c attaches it to the chat's next message and
goes to the chat. A top-level screen (F6): r and i post `Chosen`, and the app opens the Images
form with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Static

from backends.store.gallery import GalleryImage, GalleryStore
from tui.backend_errors import shows_backend_errors
from tui.widgets.image_preview import ImagePreview, Renderer
from tui.widgets.navigation_bar import NavigationBar

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

MAX_THUMB_COLUMNS = 4
CARD_MIN_WIDTH = 24  # cells: room for a thumbnail and two lines of its prompt
MAX_THUMBS = 48


def load_thumbnail(path: str, size: tuple[int, int] = (128, 128)) -> PILImage | None:
    """A small copy of a PNG (thumbnails draw faster); None when the file is gone."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.thumbnail(size)
            return image.copy()
    except OSError:
        return None


class GalleryCard(Vertical, can_focus=True):
    """One thumbnail and the start of its prompt."""

    DEFAULT_CSS = """
    GalleryCard {
        height: 12;
        border: round $panel-lighten-2;
        padding: 0;
    }
    GalleryCard:focus {
        border: round $accent;
        background: $boost;
    }
    GalleryCard > ImagePreview { height: 1fr; }
    GalleryCard > .card-caption { height: 2; color: $text-muted; }
    """

    def __init__(self, image: GalleryImage, renderer: Renderer) -> None:
        super().__init__(id=f"card-{image.id}")
        self.image = image
        self._renderer = renderer

    def compose(self) -> ComposeResult:
        yield ImagePreview("(file missing)", renderer=self._renderer)
        prompt = " ".join(self.image.prompt.split())
        caption = Static(prompt, classes="card-caption", markup=False)
        caption.tooltip = prompt  # the whole prompt; the details pane has it too
        yield caption

    async def on_mount(self) -> None:
        thumb = load_thumbnail(self.image.path)
        if thumb is not None:
            await self.query_one(ImagePreview).show(thumb)


class LargeImageScreen(ModalScreen[None]):
    """One image as large as the terminal allows; any key closes."""

    DEFAULT_CSS = """
    LargeImageScreen { align: center middle; background: $background 80%; }
    LargeImageScreen > ImagePreview { width: 100%; height: 1fr; }
    LargeImageScreen > Static { height: 1; color: $text-muted; }
    """
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="gallery_large.close")]

    def __init__(self, image: GalleryImage, renderer: Renderer) -> None:
        super().__init__()
        self._image = image
        self._renderer = renderer

    def compose(self) -> ComposeResult:
        yield ImagePreview("(file missing)", renderer=self._renderer)
        yield Static(f"{self._image.path} · Esc closes", markup=False)

    async def on_mount(self) -> None:
        if Path(self._image.path).is_file():
            await self.query_one(ImagePreview).show(self._image.path)

    def action_close(self) -> None:
        self.dismiss(None)


class GalleryScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "close", "Back", id="gallery.close"),
        Binding("enter", "open_large", "Open large", id="gallery.open"),
        Binding("r", "choose('reuse')", "Reuse parameters", id="gallery.reuse"),
        Binding("i", "choose('img2img')", "Image to image", id="gallery.img2img"),
        Binding("d,delete", "delete", "Delete", id="gallery.delete"),
        Binding("c", "send_to_chat", "Send to chat", id="gallery.to_chat"),
        Binding("slash", "search", "Search", id="gallery.search"),
        Binding("left", "move(-1)", "Move", show=False, id="gallery.left"),
        Binding("right", "move(1)", "Move", show=False, id="gallery.right"),
        Binding("up", "move_row(-1)", "Move", show=False, id="gallery.up"),
        Binding("down", "move_row(1)", "Move", show=False, id="gallery.down"),
    ]

    DEFAULT_CSS = f"""
    GalleryScreen {{ layout: vertical; }}
    GalleryScreen #gallery-search {{ height: 1; margin: 0 1; }}
    GalleryScreen #gallery-body {{ height: 1fr; }}
    GalleryScreen #gallery-grid {{
        grid-size: {MAX_THUMB_COLUMNS};
        grid-rows: 12;
        grid-gutter: 0 1;
        height: auto;
    }}
    GalleryScreen #gallery-scroll {{ width: 2fr; }}
    GalleryScreen #gallery-details {{
        width: 1fr;
        height: 1fr;
        min-width: 30;
        padding: 0 1;
        background: $panel;
    }}
    GalleryScreen #gallery-empty {{ color: $text-muted; padding: 1 2; }}
    """

    def __init__(self, gallery: GalleryStore, *, renderer: Renderer = "auto") -> None:
        super().__init__()
        self.gallery = gallery
        self.renderer = renderer
        self.images: list[GalleryImage] = []
        self.columns = MAX_THUMB_COLUMNS

    @dataclass
    class Chosen(Message):
        """r (reuse its parameters) or i (image to image) on an image: the app opens Images."""

        action: str  # "reuse" | "img2img"
        image: GalleryImage

    def compose(self) -> ComposeResult:
        yield NavigationBar("gallery")
        yield Input(placeholder="/ search prompts", id="gallery-search", compact=True)
        with Horizontal(id="gallery-body"):
            with VerticalScroll(id="gallery-scroll"):
                yield Grid(id="gallery-grid")
                yield Static("", id="gallery-empty", markup=False)
            yield Static("", id="gallery-details", markup=False)
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        await self.reload()

    async def on_screen_resume(self) -> None:
        # Kept between visits: images made (or deleted) meanwhile show on return.
        if not self.is_mounted:
            return
        search = self.query_one("#gallery-search", Input).value
        now = self.gallery.images(search, limit=MAX_THUMBS)
        if [image.id for image in now] != [image.id for image in self.images]:
            await self.reload(search)

    async def reload(self, search: str = "") -> None:
        self.images = self.gallery.images(search, limit=MAX_THUMBS)
        grid = self.query_one("#gallery-grid", Grid)
        await grid.remove_children()
        await grid.mount_all([GalleryCard(image, self.renderer) for image in self.images])
        empty = self.query_one("#gallery-empty", Static)
        if self.images:
            empty.update("")
            self.query(GalleryCard).first().focus()
        else:
            empty.update(
                f"No image matches {search!r}." if search else "No images yet: make one (F5)."
            )
            self.query_one("#gallery-details", Static).update("")

    @property
    def selected(self) -> GalleryImage | None:
        focused = self.focused
        return focused.image if isinstance(focused, GalleryCard) else None

    def on_descendant_focus(self) -> None:
        image = self.selected
        if image is not None:
            path = Path(image.path)
            details = self.query_one("#gallery-details", Static)
            details.update(f"{image.parameters}\n\n{path.parent.name}/{path.name}")
            details.tooltip = image.path

    @on(Input.Submitted, "#gallery-search")
    async def _search(self, event: Input.Submitted) -> None:
        await self.reload(event.value)

    def action_search(self) -> None:
        self.query_one("#gallery-search", Input).focus()

    def on_resize(self) -> None:
        """As many columns as keep each card CARD_MIN_WIDTH wide (captions were cut at ~16
        characters with four columns at 120 columns, worse at 80)."""
        width = self.query_one("#gallery-scroll").size.width
        columns = max(1, min(MAX_THUMB_COLUMNS, width // CARD_MIN_WIDTH))
        if columns != self.columns:
            self.columns = columns
            self.query_one("#gallery-grid", Grid).styles.grid_size_columns = columns

    def action_move_row(self, rows: int) -> None:
        self.action_move(rows * self.columns)

    def action_move(self, delta: int) -> None:
        cards = list(self.query(GalleryCard))
        if not cards:
            return
        focused = self.focused
        index = cards.index(focused) if focused in cards else -1
        cards[max(0, min(len(cards) - 1, index + delta))].focus()

    def action_open_large(self) -> None:
        image = self.selected
        if image is not None:
            self.app.push_screen(LargeImageScreen(image, self.renderer))

    def action_choose(self, action: str) -> None:
        image = self.selected
        if image is not None:
            self.post_message(self.Chosen(action, image))

    def action_send_to_chat(self) -> None:
        """Attach the picture to the chat's next message and go to the chat."""
        from tui.chat.image_command import send_picture_to_chat

        image = self.selected
        if image is None:
            return
        if not send_picture_to_chat(self.app, image.path):
            self.notify("There is no chat to send the picture to.", severity="warning")

    def action_close(self) -> None:
        """Esc: from the search box back to the pictures; with none to go back to (an empty
        gallery, no match), and from the pictures, out of the gallery."""
        if self.focused is self.query_one("#gallery-search") and self.images:
            self.query(GalleryCard).first().focus()
            return
        self.app.action_back()  # type: ignore[attr-defined]

    @work
    async def action_delete(self) -> None:
        from tui.screens.confirm import ConfirmScreen

        image = self.selected
        if image is None:
            return
        question = f"Delete {Path(image.path).name} (the PNG and its gallery entry)?"
        if await self.app.push_screen_wait(ConfirmScreen(question)):
            self._delete(image)
            await self.reload(self.query_one("#gallery-search", Input).value)

    @shows_backend_errors
    def _delete(self, image: GalleryImage) -> None:
        self.gallery.delete(image.id)
        self.notify(f"Deleted {Path(image.path).name}.")
