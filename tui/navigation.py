"""One navigation for the whole app: a key per top-level screen, Esc back, screens kept.

Every top-level screen is a `Place` in `PLACES`; adding a screen is one entry there (its
key, title, help text and a builder). Each place is a Textual *mode*: its own screen stack,
built on the first visit and kept afterwards, so leaving a screen keeps what was typed, a
transcript, a form, and a modal it had open. The chat is the default mode (the app's first
screen).

- The key of a place works from every screen, a text input's focus included (F6 and F7 are
  priority bindings: TextArea binds them itself). Pressing the key of the open screen does
  nothing.
- `Navigator.back()` (Esc on a top-level screen that has nothing of its own to stop) goes to
  the place the user came from; the history holds each place once, latest last, so walking
  back never loops. With no history it goes to the chat, the home.
- `NavigationBar` (tui/widgets/navigation_bar.py) shows the open place and the keys of the
  others; every top-level screen composes one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.binding import Binding

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

CHAT = "chat"  # the app's DEFAULT_MODE: the first screen, and home when there is no history


def _build_chat(app: Any) -> Screen[Any]:
    return app.get_default_screen()  # type: ignore[no-any-return]


def _build_hub(app: Any) -> Screen[Any]:
    return app.hub.build_hub_screen()  # type: ignore[no-any-return]


def _build_cache(app: Any) -> Screen[Any]:
    return app.hub.build_cache_screen(  # type: ignore[no-any-return]
        loaded_model=lambda: app.manager.spec, unload_model=app._unload_for_delete
    )


def _build_images(app: Any) -> Screen[Any]:
    return app.images.screen  # type: ignore[no-any-return]


def _build_gallery(app: Any) -> Screen[Any]:
    from tui.images.gallery_screen import GalleryScreen

    return GalleryScreen(app.images.gallery, renderer=app.settings.images.renderer)


def _build_speech(app: Any) -> Screen[Any]:
    from tui.speech.speech_screen import SpeechScreen

    return SpeechScreen(app.settings, app.speech, app.tts)


def _build_tasks(app: Any) -> Screen[Any]:
    from tui.tasks.tasks_screen import TasksScreen

    return TasksScreen(app.tasks, renderer=app.settings.images.renderer)


@dataclass(frozen=True)
class Place:
    """A top-level screen: the mode `name`, its `key`, and how to build its screen."""

    name: str
    title: str  # on the navigation bar, in help and in the palette
    key: str
    binding_id: str  # keymap settings remap it by this id
    help: str
    build: Callable[[Any], Screen[Any]]  # called with the app on the first visit
    # True only where a focused widget binds the key itself (TextArea: F6, F7); elsewhere a
    # screen's own binding (a keymap may put one there) keeps the key.
    priority: bool = False


PLACES: tuple[Place, ...] = (
    Place(CHAT, "Chat", "f2", "app.chat",
          "Talk to the loaded model", _build_chat),
    Place("hub", "Hub", "f3", "app.hub",
          "Search the Hugging Face Hub, read cards, download models", _build_hub),
    Place("cache", "Disk", "f4", "app.cache",
          "Models on disk by size; delete to free space", _build_cache),
    Place("images", "Images", "f5", "app.images",
          "Generate pictures with a diffusion model", _build_images),
    Place("gallery", "Gallery", "f6", "app.gallery",
          "Past images: reuse parameters, image to image, delete", _build_gallery,
          priority=True),
    Place("speech", "Speech", "f7", "app.speech",
          "Transcribe a file or a recording; export .srt/.vtt", _build_speech,
          priority=True),
    Place("tasks", "Tasks", "f12", "app.tasks",
          "NER, classification, fill-mask, zero-shot, embeddings, detection", _build_tasks),
)  # fmt: skip


def place_named(name: str) -> Place:
    return next(place for place in PLACES if place.name == name)


def navigation_bindings() -> list[Binding]:
    """The app's bindings for the places (shown on the navigation bar, not the footer)."""
    return [
        Binding(place.key, f"go('{place.name}')", place.title, show=False,
                id=place.binding_id, priority=place.priority)
        for place in PLACES
    ]  # fmt: skip


class Navigator:
    """Switches between the places (Textual modes) and remembers where the user came from."""

    places = PLACES

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._history: list[str] = []
        # The chat, the app's DEFAULT_MODE, is added as a mode once the app has built it
        # (`add_home`): Textual builds a mode it knows inside the batch it holds until the
        # first frame, so everything that screen's first refresh did (the footer composed
        # three times, ~35 ms) was drawn late; the default screen it builds by itself
        # (App.get_default_screen) mounts after that batch, as in a bare Textual app.
        for place in PLACES:
            if place.name != CHAT:
                app.add_mode(place.name, _builder(app, place.build))

    def add_home(self) -> None:
        """Make the chat, already built as the app's first screen, a mode to switch to."""
        self._app.add_mode(CHAT, _builder(self._app, place_named(CHAT).build))

    @property
    def current(self) -> str:
        return self._app.current_mode

    def go(self, name: str) -> None:
        """Open `name`; its screen is built on the first visit and kept after."""
        if name == self.current:
            return
        self._history = [seen for seen in self._history if seen not in (name, self.current)]
        self._history.append(self.current)
        self._switch(name)

    def back(self) -> None:
        """Go where the user came from (the chat when there is no history)."""
        while self._history:
            name = self._history.pop()
            if name != self.current:
                self._switch(name)
                return
        if self.current != CHAT:
            self._switch(CHAT)

    def screen(self, name: str) -> Screen[Any] | None:
        """The base screen of `name` if it was built, else None."""
        try:
            stack = self._app.get_screen_stack(name)
        except KeyError:
            return None  # not visited yet
        return stack[0] if stack else None

    def _switch(self, name: str) -> None:
        self._app.switch_mode(name)


def _builder(app: App[Any], build: Callable[[Any], Screen[Any]]) -> Callable[[], Screen[Any]]:
    return lambda: build(app)
