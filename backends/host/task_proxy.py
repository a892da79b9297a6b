"""`HostedTaskEngine`: the TaskEngine protocol over an EngineHost.

Inputs go to the host pickled (texts, file paths); each item's result comes back as its
own event, so progress shows per item. The host's loop stops between items on a cancel;
one batch of a large model can take seconds, so the host gets a grace before it is killed
and the model loaded again (`HostedEngine`). For up to a second after the caller's cancel
(`cancel_drain_s`), what the host still yields comes through (the rest of a padded batch,
items finished before the cancel reached it): done work the user can read and export.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from backends.errors import BackendError
from backends.host.hosted_engine import HostedEngine
from backends.tasks.protocol import (
    BatchFinished,
    ItemDone,
    ItemFailed,
    TaskEvent,
    TaskInput,
    TaskLoadOptions,
    TaskModelInfo,
    TaskOptions,
)

CANCEL_GRACE_S = 5.0


class HostedTaskEngine(HostedEngine[TaskLoadOptions]):
    cancel_grace_s = CANCEL_GRACE_S
    # Within the second a stop may take: the host's results of the batch under way.
    cancel_drain_s = 1.0

    def __init__(
        self,
        engine_class: type[Any],
        target: str,
        *,
        label: str | None = None,
        use_spare: bool = True,
    ) -> None:
        super().__init__(engine_class, target, label=label, use_spare=use_spare)
        self.capabilities = engine_class.capabilities
        self._info: TaskModelInfo | None = None

    def _after_load(self) -> None:
        self._info = self.host.call("model_info")

    def unload(self) -> None:
        super().unload()
        self._info = None

    def _not_loaded(self) -> BackendError:
        return BackendError("No task model is loaded. Pick one, then run again.", title="No model")

    def model_info(self) -> TaskModelInfo:
        if self._info is None:
            raise self._not_loaded()
        return self._info

    def run(
        self,
        items: Sequence[TaskInput],
        options: TaskOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[TaskEvent]:
        self._ready()
        cancel = cancel if cancel is not None else threading.Event()
        started = time.perf_counter()
        done = failed = 0
        finished = False
        for event in self._iterate("run", tuple(items), options, cancel=cancel):
            if isinstance(event, (ItemDone, ItemFailed)):
                done += isinstance(event, ItemDone)
                failed += isinstance(event, ItemFailed)
            elif isinstance(event, BatchFinished):
                finished = True
            yield event
        if not finished:  # stopped: the host finishes (or is killed) in the background
            yield BatchFinished("cancelled", done, failed, time.perf_counter() - started)
