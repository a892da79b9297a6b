"""Handlers that touch the store or a model on the UI thread report BackendErrors, never die.

Workers are covered by the app's worker-failure handler; this covers message handlers and
actions, where an exception would otherwise end the app.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from textual.dom import DOMNode

from backends.errors import BackendError

Handler = TypeVar("Handler", bound=Callable[..., Any])


def shows_backend_errors(method: Handler) -> Handler:
    """Turn a BackendError raised by `method` into an error notification."""

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def async_wrapper(self: DOMNode, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, *args, **kwargs)
            except BackendError as exc:
                _report(self, exc)
                return None

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(method)
    def wrapper(self: DOMNode, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except BackendError as exc:
            _report(self, exc)
            return None

    return wrapper  # type: ignore[return-value]


def _report(node: DOMNode, error: BackendError) -> None:
    node.notify(error.message, title=error.title, severity="error", timeout=10, markup=False)
