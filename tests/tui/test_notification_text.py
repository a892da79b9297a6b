"""Notifications quote paths, package extras and native log lines: they show as typed."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from textual.widgets._toast import Toast
from textual.worker import WorkerFailed

from backends.errors import BackendError
from tui.app import LocalAIApp


async def test_brackets_in_a_worker_error_are_shown_not_read_as_markup(
    make_app: Callable[..., LocalAIApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:

        def fail() -> None:
            raise BackendError(
                "Install it with pip install 'localai-tui[pocket]'; the log says buf[/0].",
                title="Engine missing",
            )

        app.screen.run_worker(fail, thread=True, exit_on_error=False)
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        shown = " ".join(str(toast.render()) for toast in app.screen.query(Toast))
        assert "localai-tui[pocket]" in shown
        assert "buf[/0]" in shown
