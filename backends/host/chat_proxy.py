"""`HostedChatEngine`: the ChatEngine protocol over an EngineHost, so ModelManager and
run_answer use a hosted engine exactly as an in-process one.

What the host adds, seen from here:
- Cancel that always works: once the caller's cancel is set, the stream ends with
  finish_reason "cancelled" at once; the child has `STOP_GRACE_S` to finish its own
  stream in the background; if it does not (stuck in native code), the host is killed
  and a fresh host loads the same model again, so the next answer works (it waits). A
  cancelled load that does not stop within `LOAD_CANCEL_GRACE_S` is ended with its
  process (LoadCancelled).
- Crashes: a host that dies raises EngineCrashed (signal explained) from `load` or
  `stream`; the proxy stays "loaded" and the next call starts a new host and loads the
  same model again, so resending works.
- Self-heal: an engine class may declare `options_after_crash(signal, options)` returning
  other load options and a notice (llama.cpp: SIGILL -> without repacked kernels). A load
  or a stream that has shown no text yet is then retried once with them.
- Memory truth: the footprint is the host process tree's RSS (and its VRAM by pid).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from backends.base import (
    ChatEvent,
    ChatMessage,
    EngineCapabilities,
    GenerationParams,
    LoadOptions,
    MemoryFootprint,
    ModelSpec,
    Notice,
    ProgressCallback,
    StreamFinished,
    TextDelta,
)
from backends.chat.lifecycle import not_loaded
from backends.errors import BackendError, LoadCancelled
from backends.host.client import CallCancelled, EngineCrashed, EngineHost

log = logging.getLogger(__name__)

# A stopped stream ends for the user as soon as the proxy sees the cancel (it looks every
# 20 ms); the child then has this long to end its stream before it is killed and the
# model loaded again. A big model on CPU may take most of a second for one token.
STOP_GRACE_S = 1.0
# A load checks its cancel between stages; one stuck in a long native stage (reading a
# 10 GB file) is ended with its process after this long, its memory back at once.
LOAD_CANCEL_GRACE_S = 0.5

CrashHook = Callable[[int, LoadOptions], "tuple[LoadOptions, str] | None"]


class HostedChatEngine:
    """A ChatEngine whose engine object lives in an EngineHost (see the module docstring)."""

    def __init__(
        self,
        engine_class: type[Any],
        target: str,
        *,
        label: str | None = None,
        use_spare: bool = True,
    ) -> None:
        self.name: str = engine_class.name
        self._class_capabilities: EngineCapabilities = engine_class.capabilities
        # The loaded model's, asked of the host after each load (vision needs an mmproj...).
        self.capabilities: EngineCapabilities = engine_class.capabilities
        self._crash_hook: CrashHook | None = getattr(engine_class, "options_after_crash", None)
        self.host = EngineHost(target, label=label or self.name, use_spare=use_spare)
        self._spec: ModelSpec | None = None
        self._options: LoadOptions | None = None
        self._pending_notice: str | None = None
        self._settling: threading.Event | None = None  # set once a stopped stream settled
        self._revive_error: BackendError | None = None

    @property
    def loaded(self) -> bool:
        return self._spec is not None

    # -- load / unload ------------------------------------------------------------------------

    def load(
        self,
        spec: ModelSpec,
        options: LoadOptions,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._wait_until_settled()
        self._spec = None
        self.capabilities = self._class_capabilities
        try:
            options = self._load_in_host(spec, options, progress, cancel)
            self.capabilities = self.host.call("capabilities")
        except BaseException:
            self.host.close()  # a failed or cancelled load leaves no process behind
            raise
        self._spec, self._options = spec, options

    def _load_in_host(
        self,
        spec: ModelSpec,
        options: LoadOptions,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> LoadOptions:
        """Load (again) in the host, once more with the hook's options after a crash."""
        try:
            try:
                self._call_load(spec, options, progress, cancel)
                return options
            except EngineCrashed as crash:
                fallback = self._fallback(crash, options)
                if fallback is None:
                    raise
                options, self._pending_notice = fallback
            self._call_load(spec, options, progress, cancel)
            return options
        except CallCancelled:
            raise LoadCancelled(f"Loading {spec.name} was cancelled.") from None

    def _call_load(
        self,
        spec: ModelSpec,
        options: LoadOptions,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> None:
        self.host.call(
            "load", spec, options, progress=progress, cancel=cancel, grace_s=LOAD_CANCEL_GRACE_S
        )

    def _fallback(
        self, crash: EngineCrashed, options: LoadOptions
    ) -> tuple[LoadOptions, str] | None:
        if self._crash_hook is None or crash.signal_number is None:
            return None
        try:
            return self._crash_hook(crash.signal_number, options)
        except Exception:  # a broken hook must not hide the crash itself
            log.exception("options_after_crash failed")
            return None

    def unload(self) -> None:
        self._spec, self._options = None, None  # a reload after a stop is not wanted now
        self.capabilities = self._class_capabilities
        self.host.close()  # the process exits: every byte it held goes back
        self._wait_until_settled()
        self.host.close()  # in case a reload after a stop started a process meanwhile

    # -- streaming ----------------------------------------------------------------------------

    def stream(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[ChatEvent]:
        self._wait_until_settled()
        if self._revive_error is not None:
            error, self._revive_error = self._revive_error, None
            raise error
        if self._spec is None:
            raise not_loaded()
        cancel = cancel if cancel is not None else threading.Event()
        if self._pending_notice is not None:
            notice, self._pending_notice = self._pending_notice, None
            yield Notice(notice)
        shown: list[TextDelta] = []
        try:
            yield from self._stream_once(messages, params, cancel, shown)
        except EngineCrashed as crash:
            # Only an answer that showed nothing yet can start again without repeating.
            fallback = None if shown else self._fallback(crash, self._options or LoadOptions())
            if fallback is None or cancel.is_set():
                raise
            self._options, notice = fallback
            self._reload()
            yield Notice(notice)
            yield from self._stream_once(messages, params, cancel, shown)

    def _stream_once(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: threading.Event,
        shown: list[TextDelta],
    ) -> Iterator[ChatEvent]:
        if not self.host.alive:  # it crashed since the last answer: load the model again
            self._reload()
        started = time.perf_counter()
        first_text: float | None = None
        deltas = 0
        finished = False
        settled = threading.Event()
        for event in self.host.iterate(
            "stream",
            messages,
            params,
            cancel=cancel,
            grace_s=STOP_GRACE_S,
            detach=True,
            on_end=lambda killed: self._after_stop(killed, settled),
        ):
            if isinstance(event, TextDelta):
                if cancel.is_set():  # already on its way when the user stopped: drop it
                    continue
                deltas += 1
                if first_text is None and event.text:
                    first_text = time.perf_counter() - started
                    shown.append(event)
            elif isinstance(event, StreamFinished):
                finished = True
            yield event
        if finished or not cancel.is_set():
            return
        # Stopped: the answer ends for the user now; the host finishes its stream (or is
        # killed and the model loaded again) in the background, and the next call waits.
        self._settling = settled
        yield StreamFinished(
            finish_reason="cancelled",
            prompt_tokens=None,
            completion_tokens=deltas,
            ttft_s=first_text,
            total_s=time.perf_counter() - started,
        )

    # -- replacing a dead host ----------------------------------------------------------------

    def _reload(self) -> None:
        spec, options = self._spec, self._options
        if spec is None or options is None:
            raise not_loaded()
        self.host.start()
        self._options = self._load_in_host(spec, options, None, None)

    def _after_stop(self, killed: bool, settled: threading.Event) -> None:
        """After a stopped stream, in the background: a host killed for ignoring the stop
        gets the model loaded again in a new process; errors wait for the next stream."""
        try:
            if killed and self._spec is not None:
                self._reload()
        except BackendError as error:
            self._revive_error = error
        except Exception as error:  # reported at the next stream, not lost in a thread
            log.exception("reloading the model in a new host failed")
            self._revive_error = BackendError(
                f"Reloading the model after a stop failed: {error}. Load it again.",
                title="Model reload failed",
            )
        finally:
            settled.set()

    def _wait_until_settled(self) -> None:
        settling = self._settling
        if settling is not None:
            settling.wait()
            self._settling = None

    # -- memory -------------------------------------------------------------------------------

    def memory_footprint(self) -> MemoryFootprint:
        """What the host process tree holds (nothing when no model is loaded)."""
        return self.host.footprint() if self._spec is not None else MemoryFootprint()
