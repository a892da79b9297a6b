"""Where a model runs: each kind of model opens its own screen with the model loading there.

One route for every caller: the Hub card's run key, the chat's model picker (a model that is
not a chat model opens its screen instead of loading as one), and --model / default_model.
Chat models go to the chat, diffusion models to Images, speech-to-text models to Speech,
voices to the Speak tab, pipeline task models to Tasks; a repo of a task no engine here runs
gets a message saying which tasks do, and nothing opens.
"""

from __future__ import annotations

from typing import Any

from backends.base import ModelSpec
from backends.models.model_kind import (
    KIND_PLACES,
    UNSUPPORTED,
    kind_label,
    model_kind,
    unsupported_reason,
)


def place_of(spec: ModelSpec) -> str | None:
    """The title of the screen that runs `spec` ("Tasks", "Speech (Speak tab)"), or None."""
    return KIND_PLACES.get(model_kind(spec))


def routed_note(spec: ModelSpec) -> str:
    """What a user reads when a model opened somewhere other than where they asked."""
    return f"{spec.name} is a {kind_label(spec)} model: it opens on {place_of(spec)}."


def open_model(app: Any, spec: ModelSpec) -> bool:
    """Open the screen that runs `spec` and load it there; False (after saying why) when no
    screen here runs it."""
    kind = model_kind(spec)
    if kind == UNSUPPORTED:
        error = unsupported_reason(spec)
        app.notify(error.message, title=error.title, severity="error", timeout=10)
        return False
    if kind == "chat":
        app.navigation.go("chat")
        app.chat.load_model(spec)
    elif kind == "image":
        app.images.show(spec)
    elif kind == "speech":
        app.open_speech(spec)
    elif kind == "tts":
        _open_on(app, "speech", lambda screen: screen.load_voice(spec))
    elif kind == "tasks":
        _open_on(app, "tasks", lambda screen: screen.load_model(spec))
    else:
        app.notify(
            f"{spec.name} is an {kind} model: other features use it; no screen runs it alone.",
            title="Nothing to open",
        )
        return False
    return True


def _open_on(app: Any, place: str, load: Any) -> None:
    """Go to `place` and, once its screen is mounted (built now on a first visit), `load`."""
    app.navigation.go(place)
    screen = app.navigation.screen(place)
    if screen is not None:
        app.call_after_refresh(load, screen)
