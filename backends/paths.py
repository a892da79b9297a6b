"""Where the app keeps its settings and data; tests point these at tmp dirs via env vars."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "localai-tui"


def config_file() -> Path:
    """The settings TOML: $LOCALAI_TUI_CONFIG, else the user config dir."""
    override = os.environ.get("LOCALAI_TUI_CONFIG")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME) / "config.toml"


def data_dir() -> Path:
    """Conversations, images, download state: $LOCALAI_TUI_DATA_DIR, else the user data dir."""
    override = os.environ.get("LOCALAI_TUI_DATA_DIR")
    if override:
        path = Path(override).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path(APP_NAME)
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_file() -> Path:
    return data_dir() / "localai-tui.log"
