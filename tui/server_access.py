"""The app's view of its servers: probed in the background from the first frame on, a down
server said once and retried with backoff, its coming back said too.

Nothing here blocks start-up: the probes run in the prober's own threads and reach the UI
through `call_from_thread`. Pickers read the latest answers (`known()`) so a server's models
show the moment a picker opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

    from backends.remote.probe import ServerCapabilities
    from backends.remote.prober import ServerProber
    from backends.settings import Settings


class ServerAccess:
    def __init__(self, app: App[object], settings: Settings) -> None:
        self._app = app
        self._settings = settings
        self._prober: ServerProber | None = None
        self._down: set[str] = set()

    def start(self) -> None:
        """Start probing (after the first frame); a no-op without servers or when offline."""
        if self._prober is not None or not self._settings.servers or self._settings.offline:
            return
        from backends.remote.prober import ServerProber  # httpx: ~0.1 s, after the first frame

        self._prober = ServerProber([entry.to_config() for entry in self._settings.servers])
        self._prober.add_listener(self._heard)
        self._prober.start()

    def known(self) -> dict[str, ServerCapabilities]:
        return self._prober.snapshot() if self._prober is not None else {}

    def refresh(self) -> None:
        if self._prober is not None:
            self._prober.refresh()

    def close(self) -> None:
        if self._prober is not None:
            self._prober.stop()

    def _heard(self, result: ServerCapabilities) -> None:
        """From a prober thread: say a server went down (once) or came back."""
        name = result.server.name
        if result.error is not None and name not in self._down:
            self._down.add(name)
            text = f"{result.error.message} Retrying in the background."
            self._say(text, f"{name}: {result.error.title.lower()}", "warning")
        elif result.error is None and name in self._down:
            self._down.discard(name)
            self._say(
                f"{name} answers again; its models are in the pickers.",
                "Server back",
                "information",
            )

    def _say(self, text: str, title: str, severity: str) -> None:
        try:
            self._app.call_from_thread(
                self._app.notify,
                text,
                title=title,
                severity=severity,  # type: ignore[arg-type]
            )
        except RuntimeError:
            pass  # the app is closing
