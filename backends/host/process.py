"""An engine host's process: start (from the pre-started spare when it fits), close,
kill, reap, and the reason it died; memory readings of every live host for the gauge.

`HostProcess` is the half of `EngineHost` (client.py) that knows about processes; the
other half sends requests. `live_hosts()` lists every running host of this app.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from backends.base import MemoryFootprint
from backends.host import protocol
from backends.host.crash import EngineCrashed, MemoryReading, explain_exit
from backends.host.spawn import Spawned, spawner

__all__ = ["HostInfo", "HostProcess", "live_hosts", "tree_rss"]

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
CLOSE_GRACE_S = 2.0
SAMPLE_EVERY_S = 0.5  # memory readings while a request runs (for the OOM explanation)

_live: weakref.WeakSet[HostProcess] = weakref.WeakSet()
_live_lock = threading.Lock()


@dataclass(frozen=True)
class HostInfo:
    """A running host as the device gauge shows it."""

    pid: int
    label: str
    rss_bytes: int
    vram_bytes: int | None = None


def live_hosts(*, include_spare: bool = False) -> list[HostInfo]:
    """Every running host of this app, with its resident memory (and VRAM where NVML can
    tell); with `include_spare`, the pre-started spare processes too (last)."""
    with _live_lock:
        hosts = [h for h in _live if h.alive]
    infos = [(h.pid, h.label, h.rss_bytes()) for h in hosts]
    for pid, label in spawner.spare_processes() if include_spare else []:
        infos.append((pid, label, tree_rss(pid)))
    pids = [pid for pid, _, _ in infos if pid is not None]
    from backends.host.gpu_memory import vram_by_pid

    vram = vram_by_pid(pids)
    return [
        HostInfo(pid, label, rss, vram.get(pid)) for pid, label, rss in infos if pid is not None
    ]


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its children; 0 once it is gone."""
    try:
        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return int(total)
    except psutil.Error:
        return 0


class HostProcess:
    """The child process behind an EngineHost: started (from the spare when it fits),
    watched, ended, and explained when it dies. Requests are `EngineHost`'s."""

    def __init__(self, target: str, *, label: str | None = None, use_spare: bool = True) -> None:
        self.target = target
        self.label = label or target.rpartition(":")[2]
        self._use_spare = use_spare
        self._spawned: Spawned | None = None
        self._start_lock = threading.Lock()
        self._memory: MemoryReading | None = None
        self._next_sample = 0.0
        self._log_offset = 0  # the log's size when the current request began
        self._spare_for: tuple[Any, ...] | None = None  # make a warm spare after a request
        self.starts = 0  # how many processes this host has had (a replaced one counts)

    @property
    def pid(self) -> int | None:
        spawned = self._spawned
        return spawned.process.pid if spawned is not None else None

    @property
    def alive(self) -> bool:
        spawned = self._spawned
        return spawned is not None and spawned.alive()

    @property
    def log_path(self) -> Path | None:
        spawned = self._spawned
        return spawned.log_path if spawned is not None else None

    def rss_bytes(self) -> int:
        pid = self.pid
        return tree_rss(pid) if pid is not None and self.alive else 0

    def footprint(self) -> MemoryFootprint:
        """What the process tree holds: its RSS, and its VRAM where NVML can tell."""
        pid = self.pid
        if pid is None or not self.alive:
            return MemoryFootprint()
        from backends.host.gpu_memory import vram_by_pid

        return MemoryFootprint(
            ram_bytes=self.rss_bytes(), vram_bytes=vram_by_pid([pid]).get(pid, 0)
        )

    def start(self) -> None:
        """Start the child and construct the engine in it; does nothing if it runs."""
        with self._start_lock:
            if self.alive:
                return
            self._reap()
            init = (protocol.INIT, self.target, dict(os.environ), _sys_path(), os.getcwd())
            spawned = spawner.spawn(init) if self._use_spare else spawner.spawn_fresh()
            self._spare_for = init if self._use_spare else None
            self._spawned = spawned
            self.starts += 1
            self._memory = None
            self._log_offset = 0
            try:
                if not spawned.initialised:
                    spawned.conn.send(init)
                deadline = time.monotonic() + START_TIMEOUT_S
                while not spawned.conn.poll(0.05):
                    if not spawned.alive() or time.monotonic() > deadline:
                        raise EOFError
                reply = spawned.conn.recv()
            except (EOFError, OSError):
                raise self._crashed() from None
            if reply[0] == protocol.RAISE:
                self._discard()
                raise protocol.rebuild_error(reply[2])
            with _live_lock:
                _live.add(self)
            log.info("engine host %s (%s) started", spawned.process.pid, self.label)

    def close(self) -> None:
        """Ask the child to exit, kill it after a short grace, reap it; safe twice.

        When no host has run for a while after this, the warm spares give their runtimes'
        memory back too (`spawner.cool_down_later`).
        """
        spawned, self._spawned = self._spawned, None
        with _live_lock:
            _live.discard(self)
            idle = not any(h.alive for h in _live)
        if idle:
            spawner.cool_down_later(_no_host_alive)
        if spawned is not None:
            spawned.discard(grace=CLOSE_GRACE_S)

    def kill(self) -> None:
        """SIGKILL the child now and reap it (a stuck engine); the next start() replaces it."""
        spawned, self._spawned = self._spawned, None
        with _live_lock:
            _live.discard(self)
        if spawned is not None:
            spawned.kill()

    def _discard(self) -> None:
        spawned, self._spawned = self._spawned, None
        if spawned is not None:
            spawned.discard(grace=CLOSE_GRACE_S)

    def _reap(self) -> None:
        """Forget a dead child (reaping it, so no zombie stays behind)."""
        spawned, self._spawned = self._spawned, None
        with _live_lock:
            _live.discard(self)
        if spawned is not None:
            spawned.discard(grace=0.1)

    def _crashed(self) -> EngineCrashed:
        """The child is gone (or going): reap it and explain why."""
        spawned = self._spawned
        returncode: int | None = None
        log_path = None
        if spawned is not None:
            log_path = spawned.log_path
            try:
                returncode = spawned.process.wait(timeout=2.0)
            except subprocess.TimeoutExpired:  # closed its socket yet lives: end it
                spawned.process.kill()
                returncode = spawned.process.wait()
        self._reap()
        error = explain_exit(
            returncode,
            label=self.label,
            log_path=log_path,
            memory=self._memory,
            log_since=self._log_offset,
        )
        log.error("engine host %s died (%s): %s", self.label, returncode, error.message)
        return error

    def _sample_memory(self) -> None:
        now = time.monotonic()
        if now < self._next_sample:
            return
        self._next_sample = now + SAMPLE_EVERY_S
        pid = self.pid
        if pid is None:
            return
        try:
            memory = psutil.virtual_memory()
            # Its own RSS only: listing its children scans every process in /proc (ms on
            # a busy box, twice a second, in the thread that streams the answer).
            rss = psutil.Process(pid).memory_info().rss
        except Exception:  # a reading is only ever a hint
            return
        self._memory = MemoryReading(int(rss), int(memory.available), int(memory.total))


def _no_host_alive() -> bool:
    with _live_lock:
        return not any(h.alive for h in _live)


def _sys_path() -> list[str]:
    cwd = os.getcwd()
    return [os.path.abspath(p) if p else cwd for p in sys.path]
