"""Download jobs: the mutable records the queue keeps, the immutable snapshots the TUI sees,
and their JSON persistence (queue.json; tokens are never written)."""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from backends.hub.resumable_download import TransferControl, repo_storage

JobState = Literal["queued", "running", "paused", "done", "failed", "cancelled"]
EventKind = Literal["added", "progress", "state", "removed"]
ACTIVE_STATES: frozenset[str] = frozenset({"queued", "running", "paused"})


@dataclass(frozen=True)
class FileProgress:
    path: str
    size: int
    done_bytes: int
    done: bool


@dataclass(frozen=True)
class DownloadSnapshot:
    """A job as the TUI shows it; immutable, safe to hand to another thread."""

    job_id: str
    repo_id: str
    revision: str
    state: JobState
    files: tuple[FileProgress, ...]
    total_bytes: int  # 0 until the file list is resolved
    done_bytes: int
    speed_bps: float  # over the last ~3 s; 0 when idle
    eta_s: float | None
    current_file: str | None
    error_title: str | None = None
    error_message: str | None = None
    snapshot_dir: str | None = None  # snapshots/<commit> in the HF cache, once known

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.total_bytes if self.total_bytes else 0.0


@dataclass(frozen=True)
class DownloadEvent:
    kind: EventKind
    job: DownloadSnapshot


@dataclass
class FileRecord:
    path: str
    size: int
    sha256: str | None = None
    etag: str | None = None
    done: bool = False
    done_bytes: int = 0


@dataclass
class JobRecord:
    job_id: str
    repo_id: str
    revision: str
    allow_patterns: list[str] | None
    ignore_patterns: list[str] | None
    state: JobState = "queued"
    commit: str | None = None
    files: list[FileRecord] | None = None
    error_title: str | None = None
    error_message: str | None = None
    current_file: str | None = None
    published: JobState | None = None  # the state as of the last saved + emitted event
    requeue: bool = False  # resume() arrived while a pause was still taking effect
    control: TransferControl = field(default_factory=TransferControl, repr=False)
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))

    def snapshot(self, cache_dir: Path) -> DownloadSnapshot:
        """An immutable view; speed over the last ~3 s of progress samples."""
        files = tuple(
            FileProgress(f.path, f.size, min(f.done_bytes, f.size), f.done)
            for f in self.files or ()
        )
        total = sum(f.size for f in files)
        done = sum(f.done_bytes for f in files)
        speed, eta = 0.0, None
        if self.state == "running" and len(self.samples) >= 2:
            recent = [s for s in self.samples if s[0] >= self.samples[-1][0] - 3.0]
            (t0, b0), (t1, b1) = recent[0], recent[-1]
            if t1 > t0:
                speed = max(0.0, (b1 - b0) / (t1 - t0))
                eta = (total - done) / speed if speed > 0 else None
        snapshot_dir = None
        if self.commit:
            snapshot_dir = str(repo_storage(cache_dir, self.repo_id) / "snapshots" / self.commit)
        return DownloadSnapshot(
            self.job_id, self.repo_id, self.revision, self.state, files, total, done, speed, eta,
            self.current_file, self.error_title, self.error_message, snapshot_dir,
        )  # fmt: skip

    @property
    def done_bytes(self) -> int:
        return sum(f.done_bytes for f in self.files or ())

    def persisted(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "repo_id": self.repo_id,
            "revision": self.revision,
            "allow_patterns": self.allow_patterns,
            "ignore_patterns": self.ignore_patterns,
            "state": "queued" if self.state == "running" else self.state,
            "commit": self.commit,
            "files": None if self.files is None else [asdict(f) for f in self.files],
            "error_title": self.error_title,
            "error_message": self.error_message,
        }


def save_jobs(state_file: Path, jobs: list[JobRecord]) -> None:
    """Write queue.json atomically (cancelled jobs are not kept)."""
    data = {"version": 1, "jobs": [j.persisted() for j in jobs if j.state != "cancelled"]}
    state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_name(f"queue.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, state_file)


def load_jobs(state_file: Path) -> list[JobRecord]:
    """Jobs from queue.json ([] if missing or unreadable); running jobs come back queued."""
    try:
        data = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return []
    jobs = []
    for raw in data.get("jobs", []):
        files = raw.get("files")
        job = JobRecord(
            raw["job_id"], raw["repo_id"], raw["revision"], raw.get("allow_patterns"),
            raw.get("ignore_patterns"), raw.get("state", "queued"), raw.get("commit"),
            None if files is None else [FileRecord(**f) for f in files],
            raw.get("error_title"), raw.get("error_message"),
        )  # fmt: skip
        for f in job.files or ():
            f.done_bytes = f.size if f.done else 0
        job.published = job.state
        jobs.append(job)
    return jobs
