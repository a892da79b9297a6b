"""`HostedEngine`: the one base every capability's proxy over an engine host builds on.

A hosted proxy is what the registry hands out for a local engine: it speaks the
capability's protocol (chat, speech, image, ...) while the engine object lives in an
`EngineHost` process. This base gives each of them the same four guarantees:

- **Crash isolation.** A native crash ends the host, never the app: the call raises
  `EngineCrashed` (signal explained); the proxy stays "loaded" and the next call starts
  a new host and loads the same model again (`_ensure_host`).
- **Load cleanup.** A failed or cancelled `load` leaves no process behind. A load that
  ignores its cancel for `load_cancel_grace_s` is ended with its process
  (`LoadCancelled`).
- **Cancel within a grace.** `_iterate` ends the iteration for the caller as soon as the
  caller's cancel is set (or `cancel_drain_s` later, for a proxy whose late events are
  done work worth keeping); the host gets `cancel_grace_s` in the background to stop on
  its own (between tokens, segments, steps); one that does not (stuck in native code) is
  killed and the model loaded again in a new host in the background. The next call waits
  until that has settled; a reload that failed is raised by the next call.
- **Memory truth.** `memory_footprint()` is the host process tree's RSS (and its VRAM
  by pid); `unload()` ends the process, so every byte goes back.

The contract for a subclass (a new capability is ~40 lines):

    class HostedTtsEngine(HostedEngine):
        cancel_grace_s = 1.0                    # how long its engine may take to stop

        def __init__(self, engine_class, target, *, label=None, use_spare=True):
            super().__init__(engine_class, target, label=label, use_spare=use_spare)
            self.capabilities = engine_class.capabilities

        def synthesize(self, text, options, cancel=None):
            self._ready()                       # settled, no pending error, loaded, host up
            cancel = cancel if cancel is not None else threading.Event()
            finished = False
            for event in self._iterate("synthesize", text, options, cancel=cancel):
                finished = finished or isinstance(event, SpeechDone)
                yield event
            if not finished:                    # the caller cancelled: say so, at once
                yield SpeechDone(reason="cancelled")

- The hosted engine class needs a `name` (copied here) and the methods the proxy calls
  by name in the host (`load(spec, options, progress=, cancel=)`, the generator, ...).
  Its generator takes a `cancel` Event (set in the host when the caller's is set).
- `_after_load()` runs in `load` once the model is in the host (read capabilities, a
  runtime label); a failure there is cleaned up like a failed load.
- `_load_with(spec, options, progress, cancel)` loads in the host (`_call_load`) and
  returns the options that worked; override it to retry with other options (the chat
  proxy's crash hook). It is also what reloads after a crash or a kill.
- Errors a proxy raises are `BackendError`s; `_not_loaded()` says what "no model" means
  for the capability.
- Events already on their way when the caller cancelled may still arrive: drop them
  (`if cancel.is_set(): continue`) so the caller sees nothing after it said stop, or,
  where they are finished work (a task batch's results), keep them (`cancel_drain_s`).
- A `warm_up()` classmethod on the engine class runs in the pre-started spare host
  (import the runtime, do a process's first-load work), so a new host — a switch, the
  reload after a kill — does not wait for it.
- Wire it in `registry` (one `EngineEntry(..., hosted=True)` and a factory that builds
  the proxy); tests/backends/host/test_hosted_engine.py checks this contract on the
  smallest subclass and is the template for a new capability's tests.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from backends.base import MemoryFootprint, ModelSpec, ProgressCallback
from backends.errors import BackendError, LoadCancelled
from backends.host.client import CallCancelled, EngineHost

__all__ = ["HostedEngine"]

log = logging.getLogger(__name__)

OptionsT = TypeVar("OptionsT")


class HostedEngine(Generic[OptionsT]):
    """A capability's proxy over an EngineHost (see the module docstring)."""

    #: After a cancel, how long the host may take to stop on its own before it is
    #: killed and the model loaded again in a new host (in the background).
    cancel_grace_s: float = 1.0
    #: After a cancel, how long the caller still reads what the host yields (work already
    #: done, such as the rest of a batch) before the iteration ends; 0: at once.
    cancel_drain_s: float = 0.0
    #: A cancelled load that has not stopped this long after the cancel is ended with
    #: its process (a long native stage, such as reading a 10 GB file).
    load_cancel_grace_s: float | None = 0.5

    def __init__(
        self,
        engine_class: type[Any],
        target: str,
        *,
        label: str | None = None,
        use_spare: bool = True,
    ) -> None:
        self.name: str = engine_class.name
        self.host = EngineHost(target, label=label or self.name, use_spare=use_spare)
        self._spec: ModelSpec | None = None
        self._options: OptionsT | None = None
        self._settling: threading.Event | None = None  # set once a stopped call settled
        self._revive_error: BackendError | None = None

    @property
    def loaded(self) -> bool:
        return self._spec is not None

    # -- load / unload --------------------------------------------------------------------

    def load(
        self,
        spec: ModelSpec,
        options: OptionsT,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._wait_until_settled()
        self._spec, self._revive_error = None, None
        try:
            options = self._load_in_host(spec, options, progress, cancel)
            self._after_load()
        except BaseException:
            self.host.close()  # a failed or cancelled load leaves no process behind
            raise
        self._spec, self._options = spec, options

    def _load_in_host(
        self,
        spec: ModelSpec,
        options: OptionsT,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> OptionsT:
        """Load the model in the host (starting it if needed); return the options used."""
        try:
            return self._load_with(spec, options, progress, cancel)
        except CallCancelled:
            raise LoadCancelled(f"Loading {spec.name} was cancelled.") from None

    def _load_with(
        self,
        spec: ModelSpec,
        options: OptionsT,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> OptionsT:
        """The load itself; override to retry with other options (return those)."""
        self._call_load(spec, options, progress, cancel)
        return options

    def _call_load(
        self,
        spec: ModelSpec,
        options: OptionsT,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> None:
        self.host.call(
            "load",
            spec,
            options,
            progress=progress,
            cancel=cancel,
            grace_s=self.load_cancel_grace_s,
        )

    def _after_load(self) -> None:
        """Runs after each `load` in the host succeeded (not after a reload)."""

    def unload(self) -> None:
        self._spec, self._options = None, None  # a reload after a stop is not wanted now
        self.host.close()  # the process exits: every byte it held goes back
        self._wait_until_settled()
        self.host.close()  # in case a reload after a stop started a process meanwhile
        self._revive_error = None

    # -- before a call ----------------------------------------------------------------------

    def _not_loaded(self) -> BackendError:
        return BackendError("No model is loaded. Load one, then try again.", title="No model")

    def _ready(self) -> ModelSpec:
        """Before a call: wait for a stopped call to settle, raise what its reload left,
        refuse when nothing is loaded, and bring a dead host back with the model."""
        self._wait_until_settled()
        if self._revive_error is not None:
            error, self._revive_error = self._revive_error, None
            raise error
        spec = self._spec
        if spec is None:
            raise self._not_loaded()
        self._ensure_host()
        return spec

    def _ensure_host(self) -> None:
        """A host that crashed or was killed since the last call: load the model again."""
        if not self.host.alive:
            self._reload()

    def _reload(self) -> None:
        spec, options = self._spec, self._options
        if spec is None or options is None:
            raise self._not_loaded()
        try:
            self.host.start()
            self._options = self._load_in_host(spec, options, None, None)
        except BaseException:
            self.host.close()  # no host without its model: the next call tries again
            raise

    # -- iterating with cancel ----------------------------------------------------------------

    def _iterate(
        self, method: str, *args: Any, cancel: threading.Event, **kwargs: Any
    ) -> Iterator[Any]:
        """Yield what the host's generator `method` yields; end at once on `cancel`.

        After the caller's cancel, the iteration stops (events already on their way are
        not yielded); the host has `cancel_grace_s` in the background to end its
        generator, else it is killed and the model loaded again in a new host. The
        caller tells its own user the call was cancelled (a "cancelled" finish event, or
        an exception) when the iteration ends without its final event.
        """
        settled = threading.Event()
        detached = yield from self.host.iterate(
            method,
            *args,
            cancel=cancel,
            grace_s=self.cancel_grace_s,
            detach=True,
            on_end=lambda killed: self._after_stop(killed, settled),
            drain_s=self.cancel_drain_s,
            **kwargs,
        )
        if detached:
            self._settling = settled

    def _after_stop(self, killed: bool, settled: threading.Event) -> None:
        """After a stopped call, in the background: a host killed for ignoring the stop
        gets the model loaded again in a new process; errors wait for the next call."""
        try:
            if killed and self._spec is not None:
                self._reload()
        except BackendError as error:
            self._revive_error = error
        except Exception as error:  # reported at the next call, not lost in a thread
            log.exception("reloading the model in a new host failed")
            self._revive_error = BackendError(
                f"Reloading the model after a stop failed: {error}. Load it again.",
                title="Model reload failed",
            )
        finally:
            settled.set()

    def _wait_until_settled(self) -> None:
        """Wait until a stopped call's host has stopped (or been replaced and reloaded)."""
        settling = self._settling
        if settling is not None:
            settling.wait()
            self._settling = None

    # -- memory -------------------------------------------------------------------------------

    def memory_footprint(self) -> MemoryFootprint:
        """What the host process tree holds (nothing when no model is loaded)."""
        return self.host.footprint() if self._spec is not None else MemoryFootprint()
