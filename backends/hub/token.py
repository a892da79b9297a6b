"""The Hugging Face access token: where it comes from, how it is stored, and how it stays secret.

Precedence (first found wins): the HF_TOKEN env var, the token the user entered in the app
(stored 0600 beside the settings file), huggingface_hub's login file ($HF_TOKEN_PATH, else
$HF_HOME/token, else ~/.cache/huggingface/token). Paths are read at call time, never at import.

The token travels inside `HubToken`, whose repr and str never show it; only `reveal()` does, and
only the HTTP layer calls that.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from backends.paths import config_file

TokenSource = Literal["env", "app", "hf-login"]


class HubToken:
    """An access token that never prints itself."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: TokenSource = "app") -> None:
        self._value = value.strip()
        self.source: TokenSource = source

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"HubToken(source={self.source!r}, value=<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HubToken) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def app_token_file() -> Path:
    """Where a token entered in the app is kept (0600), next to config.toml."""
    return config_file().parent / "hf_token"


def hf_login_file() -> Path:
    """huggingface_hub's login file, resolved from the env at call time."""
    explicit = os.environ.get("HF_TOKEN_PATH")
    if explicit:
        return Path(explicit).expanduser()
    hf_home = os.environ.get("HF_HOME")
    if hf_home:
        return Path(hf_home).expanduser() / "token"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "token"


def _read(path: Path) -> str | None:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return value or None


def resolve_token() -> HubToken | None:
    """The token to use, or None (anonymous: public repos only)."""
    env = os.environ.get("HF_TOKEN", "").strip()
    if env:
        return HubToken(env, "env")
    stored = _read(app_token_file())
    if stored:
        return HubToken(stored, "app")
    login = _read(hf_login_file())
    if login:
        return HubToken(login, "hf-login")
    return None


def save_token(value: str) -> HubToken:
    """Store a token entered in the app with 0600 permissions (created that way, no window)."""
    token = HubToken(value, "app")
    if not token.reveal():
        raise ValueError("An empty token cannot be saved.")
    path = app_token_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, token.reveal().encode("utf-8"))
    finally:
        os.close(fd)
    os.chmod(path, 0o600)  # an older file may have had wider permissions
    return token


def forget_token() -> bool:
    """Delete the app-stored token; True if there was one."""
    try:
        app_token_file().unlink()
    except FileNotFoundError:
        return False
    return True


def redact(text: str, token: HubToken | None) -> str:
    """`text` with the token (if any) replaced, for messages built from server replies."""
    if token is None or not token.reveal():
        return text
    return text.replace(token.reveal(), "<hidden>")
