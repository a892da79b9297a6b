"""The app's image side: one model session, the gallery store and the Images screen.

The Images screen is installed once and kept (the navigation opens it, tui/navigation.py),
so its queue goes on while the user chats.
Everything is built on first use: an app that never opens the Images screen imports
neither diffusers nor Pillow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App
    from textual.widget import Widget

    from backends.base import ModelSpec
    from backends.image.session import ImageModelSession
    from backends.settings import Settings
    from backends.store.gallery import GalleryStore
    from tui.images.images_screen import ImagesScreen

IMAGES_SCREEN = "images"


SAVE_WAIT_S = 10.0


class ImageAccess:
    def __init__(
        self, app: App[None], settings: Settings, gallery: GalleryStore | None = None
    ) -> None:
        self._app = app
        self._settings = settings
        self._gallery = gallery
        self._session: ImageModelSession | None = None
        # Builds the Images screen's device gauge (tests give one that reads fixed numbers).
        self.gauge_factory: Callable[[], Widget] | None = None

    @property
    def gallery(self) -> GalleryStore:
        if self._gallery is None:
            from backends.store.gallery import GalleryStore

            self._gallery = GalleryStore.open_default()
        return self._gallery

    @property
    def session(self) -> ImageModelSession:
        if self._session is None:
            from backends.image.session import ImageModelSession

            self._session = ImageModelSession(self._settings)
        return self._session

    @property
    def screen(self) -> ImagesScreen:
        if not self._app.is_screen_installed(IMAGES_SCREEN):
            from tui.images.images_screen import ImagesScreen

            screen = ImagesScreen(
                self._settings, self.session, self.gallery, gauge_factory=self.gauge_factory
            )
            self._app.install_screen(screen, IMAGES_SCREEN)
        return self._app.get_screen(IMAGES_SCREEN)  # type: ignore[return-value]

    def show(self, model: ModelSpec | None = None) -> ImagesScreen:
        """Bring up the Images screen (loading `model` into it when given)."""
        screen = self.screen
        self._app.navigation.go("images")  # type: ignore[attr-defined]
        if model is not None:
            screen.load_model(model)
        return screen

    def close(self) -> None:
        if self._app.is_screen_installed(IMAGES_SCREEN):
            self.screen.cancel_all()
            self.screen.queue.close()  # a worker waiting for a next job ends
            self.screen.wait_for_saves(SAVE_WAIT_S)  # a picture shown is written before exit
        if self._session is not None:
            self._session.unload()
        if self._gallery is not None:
            self._gallery.close()
