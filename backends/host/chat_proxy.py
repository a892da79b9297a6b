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

Loading, reloading, the stop in the background and the footprint are `HostedEngine`'s
(hosted_engine.py); this module adds the chat events and the crash hook.
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
    ModelSpec,
    Notice,
    ProgressCallback,
    ReasoningDelta,
    StreamFinished,
    TextDelta,
)
from backends.chat.lifecycle import not_loaded
from backends.errors import BackendError
from backends.host.client import EngineCrashed
from backends.host.hosted_engine import HostedEngine

log = logging.getLogger(__name__)

# A stopped stream ends for the user as soon as the proxy sees the cancel (it looks every
# 20 ms); the child then has this long to end its stream before it is killed and the
# model loaded again. A big model on CPU may take most of a second for one token.
STOP_GRACE_S = 1.0
# A load checks its cancel between stages; one stuck in a long native stage (reading a
# 10 GB file) is ended with its process after this long, its memory back at once.
LOAD_CANCEL_GRACE_S = 0.5

CrashHook = Callable[[int, LoadOptions], "tuple[LoadOptions, str] | None"]


class HostedChatEngine(HostedEngine[LoadOptions]):
    """A ChatEngine whose engine object lives in an EngineHost (see the module docstring)."""

    cancel_grace_s = STOP_GRACE_S
    load_cancel_grace_s = LOAD_CANCEL_GRACE_S

    def __init__(
        self,
        engine_class: type[Any],
        target: str,
        *,
        label: str | None = None,
        use_spare: bool = True,
    ) -> None:
        super().__init__(engine_class, target, label=label, use_spare=use_spare)
        self._class_capabilities: EngineCapabilities = engine_class.capabilities
        # The loaded model's, asked of the host after each load (vision needs an mmproj...).
        self.capabilities: EngineCapabilities = engine_class.capabilities
        self._crash_hook: CrashHook | None = getattr(engine_class, "options_after_crash", None)
        self._pending_notice: str | None = None

    def _not_loaded(self) -> BackendError:
        return not_loaded()

    # -- load: once more with the crash hook's options ----------------------------------------

    def _load_with(
        self,
        spec: ModelSpec,
        options: LoadOptions,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> LoadOptions:
        """Load (again) in the host, once more with the hook's options after a crash."""
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

    def _after_load(self) -> None:
        self.capabilities = self.host.call("capabilities")  # the loaded model's

    def unload(self) -> None:
        self.capabilities = self._class_capabilities
        super().unload()

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
        shown: list[TextDelta | ReasoningDelta] = []
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
        shown: list[TextDelta | ReasoningDelta],
    ) -> Iterator[ChatEvent]:
        self._ensure_host()  # it crashed since the last answer: load the model again
        started = time.perf_counter()
        first_text: float | None = None
        deltas = 0
        finished = False
        for event in self._iterate("stream", messages, params, cancel=cancel):
            if isinstance(event, TextDelta | ReasoningDelta):
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
        yield StreamFinished(
            finish_reason="cancelled",
            prompt_tokens=None,
            completion_tokens=deltas,
            ttft_s=first_text,
            total_s=time.perf_counter() - started,
        )
