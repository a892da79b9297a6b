"""Images UI fixtures: the app with pictures drawn as colour half-cells (stable in tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import ModelSpec
from backends.settings import Settings, load_settings
from backends.store.gallery import GalleryStore
from tests.fixtures.scripted_image_engine import scripted_image_engine
from tests.tui.conftest import QuietGauge
from tui.app import LocalAIApp

__all__ = ["scripted_image_engine"]


@pytest.fixture
def image_settings() -> Settings:
    settings = load_settings()
    settings.images.renderer = "halfcell"
    return settings


@pytest.fixture
def make_image_app(
    make_app: Callable[..., LocalAIApp], image_settings: Settings, tmp_path: Path
) -> Callable[..., LocalAIApp]:
    def build(startup: ModelSpec | None = None) -> LocalAIApp:
        app = make_app(startup, settings=image_settings)
        app.images._gallery = GalleryStore(tmp_path / "data" / "gallery.sqlite3")
        app.images.gauge_factory = QuietGauge
        return app

    return build
