"""A persistent download queue: one worker thread, pause/resume/cancel, coalesced progress.

The TUI adds jobs (a repo plus allow/ignore patterns, e.g. one GGUF quant) and either polls
`drain_events()` from a timer or passes `on_event` (called on the worker thread, or on the
thread that called add/pause/resume/cancel: post a message from it, never touch widgets).
Progress events are coalesced to at most one per
`progress_interval` (0.1 s = 10/s); state changes are always sent at once.

The queue persists to JSON (data_dir()/downloads/queue.json): after a restart, queued and
interrupted jobs resume (their kept partial files continue with a ranged GET), paused jobs stay
paused, failed and finished jobs stay listed until removed.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from backends.errors import BackendError, DownloadError, HubError, OfflineError
from backends.hub.client import HubClient
from backends.hub.download_jobs import (
    ACTIVE_STATES,
    DownloadEvent,
    DownloadSnapshot,
    EventKind,
    FileRecord,
    JobRecord,
    JobState,
    load_jobs,
    save_jobs,
)
from backends.hub.models import RepoListing
from backends.hub.resumable_download import (
    FileMetadata,
    RetryPolicy,
    TransferControl,
    TransferStopped,
    discard_partial,
    fetch_file,
    partial_path,
    write_ref,
)


class DownloadQueue:
    """Thread-based download queue; every public method is thread-safe and non-blocking."""

    def __init__(
        self,
        client: HubClient,
        *,
        state_dir: Path | None = None,
        retry: RetryPolicy | None = None,
        progress_interval: float = 0.1,
        on_event: Callable[[DownloadEvent], None] | None = None,
        autostart: bool = True,
    ) -> None:
        if state_dir is None:
            from backends.paths import data_dir

            state_dir = data_dir() / "downloads"
        self.client = client
        self.state_file = state_dir / "queue.json"
        self.partial_dir = state_dir / "partial"
        self.retry = retry or RetryPolicy()
        self.progress_interval = progress_interval
        self.events: queue.Queue[DownloadEvent] = queue.Queue()
        self.progress_events_sent = 0
        self._on_event = on_event
        self._jobs: dict[str, JobRecord] = {}
        self._cond = threading.Condition()
        self._closing = False
        self._last_progress = 0.0
        self._thread: threading.Thread | None = None
        for job in load_jobs(self.state_file):
            for f in job.files or ():
                part = partial_path(self.partial_dir, f.etag) if f.etag and not f.done else None
                if part is not None and part.exists():
                    f.done_bytes = part.stat().st_size  # show kept progress before resuming
            self._jobs[job.job_id] = job
        if autostart:
            self.start()

    # public API -----------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="download-queue", daemon=True
                )
                self._thread.start()

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop the worker; a running job keeps its partial file and resumes on next start."""
        with self._cond:
            self._closing = True
            for job in self._jobs.values():
                if job.state == "running":
                    job.control.stop("shutdown")
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._save()

    def add(
        self,
        repo_id: str,
        *,
        revision: str = "main",
        allow_patterns: Sequence[str] | None = None,
        ignore_patterns: Sequence[str] | None = None,
    ) -> str:
        """Queue a repo (or the files matching the patterns); returns the job id."""
        job = JobRecord(
            uuid.uuid4().hex[:12],
            repo_id,
            revision,
            list(allow_patterns) if allow_patterns else None,
            list(ignore_patterns) if ignore_patterns else None,
        )
        with self._cond:
            self._jobs[job.job_id] = job
            self._cond.notify_all()
        self._changed(job, "added")
        return job.job_id

    def pause(self, job_id: str) -> None:
        with self._cond:
            job = self._jobs[job_id]
            if job.state == "running":
                job.control.stop("paused")  # the worker marks it paused when it stops
                return
            if job.state == "queued":
                job.state = "paused"
        self._changed(job)

    def resume(self, job_id: str) -> None:
        """Continue a paused job, or retry a failed one (from its kept partial file)."""
        with self._cond:
            job = self._jobs[job_id]
            if job.state == "running" and job.control.reason == "paused":
                job.requeue = True  # paused and resumed before the worker noticed
                return
            if job.state not in ("paused", "failed"):
                return
            job.state, job.error_title, job.error_message = "queued", None, None
            job.control = TransferControl()
            self._cond.notify_all()
        self._changed(job)

    def cancel(self, job_id: str) -> None:
        """Stop and forget the partial files; completed files stay in the cache."""
        with self._cond:
            job = self._jobs[job_id]
            if job.state == "running":
                job.requeue = False
                job.control.stop("cancelled")
                return
            if job.state not in ACTIVE_STATES and job.state != "failed":
                return
            job.state = "cancelled"
        self._discard_partials(job)
        self._changed(job)

    def remove(self, job_id: str) -> None:
        """Drop a finished, failed or cancelled job from the list."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None or job.state in ("running", "queued"):
                return
            del self._jobs[job_id]
        if job.state == "paused":
            self._discard_partials(job)
        self._save()
        self._emit(DownloadEvent("removed", self._snapshot(job)))

    def discard_orphan_partials(self) -> int:
        """Delete kept partial files no job refers to (left by a crash); returns bytes freed."""
        with self._cond:
            kept = {f.etag for j in self._jobs.values() for f in j.files or () if f.etag}
        freed = 0
        for part in self.partial_dir.glob("*.part"):
            if part.stem not in kept:
                freed += part.stat().st_size
                discard_partial(self.partial_dir, part.stem)
        return freed

    def jobs(self) -> list[DownloadSnapshot]:
        with self._cond:
            return [self._snapshot(job) for job in self._jobs.values()]

    def job(self, job_id: str) -> DownloadSnapshot:
        with self._cond:
            return self._snapshot(self._jobs[job_id])

    def drain_events(self) -> list[DownloadEvent]:
        """Every event since the last call (for a TUI timer)."""
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def wait(
        self, job_id: str, states: Sequence[JobState], timeout: float | None = 30.0
    ) -> DownloadSnapshot:
        """Block until the job is in one of `states` (for scripts and tests)."""
        with self._cond:
            job = self._jobs[job_id]
            ok = self._cond.wait_for(
                lambda: job.state in states and job.published == job.state, timeout
            )
            if not ok:
                raise TimeoutError(f"job {job_id} stayed {job.state}")
            return self._snapshot(job)

    # worker ---------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closing or self._next() is not None)
                if self._closing:
                    return
                job = self._next()
                assert job is not None
                job.state = "running"
                job.samples.clear()
                job.samples.append((time.monotonic(), job.done_bytes))
                self._last_progress = job.samples[0][0]
            self._changed(job)
            self._process(job)

    def _next(self) -> JobRecord | None:
        return next((j for j in self._jobs.values() if j.state == "queued"), None)

    def _process(self, job: JobRecord) -> None:
        try:
            self._resolve(job)
            for f in job.files or ():
                if not f.done:
                    self._download(job, f)
            final: JobState = "done"
        except TransferStopped as stop:
            final = {"paused": "paused", "cancelled": "cancelled", "shutdown": "queued"}[
                stop.reason
            ]  # type: ignore[assignment]
        except BackendError as exc:
            final, job.error_title, job.error_message = "failed", exc.title, exc.message
        except Exception as exc:  # a bug must not kill the worker thread
            final, job.error_title = "failed", DownloadError.title
            job.error_message = f"Unexpected error: {type(exc).__name__}. Resume to try again."
        if final == "cancelled":
            self._discard_partials(job)
        with self._cond:
            if final == "paused" and job.requeue:
                final, job.control = "queued", TransferControl()
            job.requeue = False
            job.state, job.current_file = final, None
            self._cond.notify_all()
        self._changed(job)

    def _resolve(self, job: JobRecord) -> None:
        if job.files is not None:
            return
        from huggingface_hub.utils import filter_repo_objects

        listing = self._list_files(job)
        from backends.tasks.task_detection import remember_task

        remember_task(job.repo_id, listing.pipeline_tag)  # the task, known offline later
        chosen = filter_repo_objects(
            listing.files,
            allow_patterns=job.allow_patterns,
            ignore_patterns=job.ignore_patterns,
            key=lambda f: f.path,
        )
        with self._cond:
            job.commit = listing.commit
            job.files = [FileRecord(f.path, f.size, f.sha256) for f in chosen]
        if not job.files:
            raise DownloadError(
                f"No file in {job.repo_id} matches {job.allow_patterns}. Pick another quant."
            )
        self._check_disk_space(job)
        self._changed(job)

    def _list_files(self, job: JobRecord) -> RepoListing:
        """The job's file list, retried with the download backoff while the Hub is
        unreachable or failing (5xx, 429, timeouts); pause and cancel stop the wait."""
        for attempt in range(self.retry.attempts):
            job.control.raise_if_stopped()
            try:
                return self.client.list_files(job.repo_id, job.revision)
            except HubError as exc:
                transient = type(exc) is HubError or (
                    isinstance(exc, OfflineError) and not self.client.offline
                )
                if not transient or attempt + 1 >= self.retry.attempts:
                    raise
            job.control.sleep(self.retry.delay(attempt))
        raise DownloadError(f"Listing the files of {job.repo_id} did not finish. Try again.")

    def _check_disk_space(self, job: JobRecord) -> None:
        import shutil

        cache = self.client.cache_dir
        cache.mkdir(parents=True, exist_ok=True)
        missing = sum(f.size for f in job.files or () if not f.done)
        free = shutil.disk_usage(cache).free
        if missing > free:
            raise DownloadError(
                f"Not enough disk space for {job.repo_id}: {missing / 1e9:.1f} GB needed, "
                f"{free / 1e9:.1f} GB free in {cache}. Free space (F4 lists what is on disk; "
                "Del deletes) and resume."
            )

    def _download(self, job: JobRecord, f: FileRecord) -> None:
        with self._cond:
            job.current_file, f.done_bytes = f.path, 0

        def on_bytes(n: int) -> None:
            f.done_bytes += n
            self._progress(job)

        def on_metadata(meta: FileMetadata) -> None:
            f.etag = meta.etag
            job.commit = job.commit or meta.commit
            self._save()

        fetch_file(
            self.client,
            job.repo_id,
            f.path,
            revision=job.commit or job.revision,
            cache_dir=self.client.cache_dir,
            partial_dir=self.partial_dir,
            control=job.control,
            on_bytes=on_bytes,
            retry=self.retry,
            expected_sha256=f.sha256,
            on_metadata=on_metadata,
        )
        if job.commit and job.revision != job.commit:
            write_ref(self.client.cache_dir, job.repo_id, job.revision, job.commit)
        with self._cond:
            f.done, f.done_bytes = True, f.size
        self._save()
        self._progress(job, force=True)

    def _discard_partials(self, job: JobRecord) -> None:
        for f in job.files or ():
            if not f.done:
                discard_partial(self.partial_dir, f.etag)

    # events, progress, persistence ----------------------------------------------------------

    def _progress(self, job: JobRecord, *, force: bool = False) -> None:
        """At most one progress event per interval, except `force` (a file just completed),
        so a finished file never shows as partly done while the next one starts."""
        now = time.monotonic()
        if not force and now - self._last_progress < self.progress_interval:
            return
        self._last_progress = now
        with self._cond:
            job.samples.append((now, job.done_bytes))
            snap = self._snapshot(job)
        self.progress_events_sent += 1
        self._emit(DownloadEvent("progress", snap))

    def _changed(self, job: JobRecord, kind: EventKind = "state") -> None:
        """Persist, emit, then wake `wait()`ers: when wait() returns, both are done."""
        self._save()
        with self._cond:
            snap = self._snapshot(job)
        self._emit(DownloadEvent(kind, snap))
        with self._cond:
            job.published = snap.state
            self._cond.notify_all()

    def _emit(self, event: DownloadEvent) -> None:
        self.events.put(event)
        if self._on_event is not None:
            self._on_event(event)

    def _snapshot(self, job: JobRecord) -> DownloadSnapshot:
        return job.snapshot(self.client.cache_dir)

    def _save(self) -> None:
        with self._cond:
            jobs = list(self._jobs.values())
        save_jobs(self.state_file, jobs)
