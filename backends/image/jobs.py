"""The image queue: prompts line up, one runs at a time, each is saved as it finishes.

Plain Python (no UI): the Images screen adds jobs and runs `run_job` for each in a worker.
Cancelling the running job sets its event (a hosted engine ends the job at once, whatever
the step length; in-process, within one step); removing a queued job just drops it.
Thread-safe: the worker takes jobs while the UI adds and removes.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from backends.errors import BackendError, GenerationError
from backends.image.outputs import save_result
from backends.image.protocol import (
    GenerationCancelled,
    ImageEngine,
    ImageRequest,
    ImageResult,
    ImageStep,
)
from backends.store.gallery import GalleryImage, GalleryStore

JobState = Literal["queued", "running", "done", "cancelled", "failed"]


@dataclass
class ImageJob:
    id: int
    request: ImageRequest
    state: JobState = "queued"
    cancel: threading.Event = field(default_factory=threading.Event)
    last_step: ImageStep | None = None


class ImageQueue:
    """Jobs in order; the UI thread adds and removes, one worker takes them."""

    def __init__(self) -> None:
        self._jobs: list[ImageJob] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a job added, or `wake()`
        self._closed = False

    def add(self, request: ImageRequest) -> ImageJob:
        job = ImageJob(next(self._ids), request)
        with self._lock:
            self._jobs.append(job)
            self._changed.notify_all()
        return job

    def wait_for_job(self, timeout: float) -> bool:
        """Block until a job is queued (True), or `timeout` passes, `wake()` is called or the
        queue is closed (False): how a worker that outlives its last job waits for the next,
        so a new job starts without a worker starting first."""
        with self._lock:
            if not self._closed and not any(j.state == "queued" for j in self._jobs):
                self._changed.wait(timeout)
            return not self._closed and any(j.state == "queued" for j in self._jobs)

    def wake(self) -> None:
        """Make a waiting worker look again (a model is being switched: it should stop)."""
        with self._lock:
            self._changed.notify_all()

    def close(self) -> None:
        """No more waiting: every `wait_for_job` returns False from now on."""
        with self._lock:
            self._closed = True
            self._changed.notify_all()

    def take(self) -> ImageJob | None:
        """The next queued job, now marked running; None when nothing waits."""
        with self._lock:
            for job in self._jobs:
                if job.state == "queued":
                    job.state = "running"
                    return job
        return None

    def cancel(self, job_id: int) -> ImageJob | None:
        """Stop a running job (within a step) or drop a queued one; returns the job."""
        with self._lock:
            job = next((j for j in self._jobs if j.id == job_id), None)
            if job is None:
                return None
            if job.state == "queued":
                job.state = "cancelled"
                self._jobs.remove(job)
            elif job.state == "running":
                job.cancel.set()
        return job

    def cancel_all(self) -> None:
        with self._lock:
            for job in self._jobs:
                job.cancel.set()
                if job.state == "queued":
                    job.state = "cancelled"
            self._jobs = [j for j in self._jobs if j.state == "running"]

    def finish(self, job: ImageJob, state: JobState) -> None:
        with self._lock:
            job.state = state
            if job in self._jobs:
                self._jobs.remove(job)

    def pending(self) -> list[ImageJob]:
        """Running first, then queued, in order."""
        with self._lock:
            return [j for j in self._jobs if j.state in ("running", "queued")]

    @property
    def running(self) -> ImageJob | None:
        with self._lock:
            return next((j for j in self._jobs if j.state == "running"), None)


@dataclass(frozen=True)
class JobOutcome:
    result: ImageResult
    saved: GalleryImage


def run_job(
    engine: ImageEngine,
    job: ImageJob,
    *,
    model: str,
    outputs_dir: Path,
    gallery: GalleryStore,
    on_step: Callable[[ImageStep], None],
    on_image: Callable[[ImageResult], None] | None = None,
    model_hash: str | None = None,
) -> JobOutcome:
    """Make the job's image and save it (PNG + gallery row); GenerationCancelled if stopped.

    `on_image` gets the finished picture before it is saved, so a screen can show it while
    the PNG is encoded and written (measured: the save was most of the time from the last
    step to the picture). Any failure comes out as a BackendError with a sentence."""
    result = make_image(engine, job, on_step=on_step)
    if on_image is not None:
        on_image(result)
    try:
        saved = save_result(
            result, model=model, outputs_dir=outputs_dir, gallery=gallery, model_hash=model_hash
        )
    except BackendError:
        raise
    except Exception as error:  # a gallery bug must reach the user as a sentence too
        raise engine_failure(error) from error
    return JobOutcome(result, saved)


def make_image(
    engine: ImageEngine, job: ImageJob, *, on_step: Callable[[ImageStep], None]
) -> ImageResult:
    """The job's finished picture, not saved (`save_result` writes it; the Images screen
    does so in a `BackgroundSaver`); GenerationCancelled if stopped, any failure a
    BackendError with a sentence."""
    try:
        for event in engine.generate(job.request, job.cancel):
            if isinstance(event, ImageStep):
                job.last_step = event
                on_step(event)
            elif isinstance(event, ImageResult):
                if job.cancel.is_set():  # cancelled after the last step: still nothing saved
                    raise GenerationCancelled("The image was cancelled; nothing was saved.")
                return event
    except BackendError:
        raise
    except Exception as error:  # an engine bug must reach the user as a sentence
        raise engine_failure(error) from error
    raise GenerationCancelled("The engine stopped without an image; nothing was saved.")


def engine_failure(error: BaseException) -> GenerationError:
    """What an unexpected engine exception means to the user (no raw TypeError)."""
    detail = str(error).splitlines()[0][:200] if str(error) else ""
    what = f" ({detail})" if detail else ""
    return GenerationError(
        f"The image engine failed on this request{what}. Try the model's default sampler, "
        "a smaller size or fewer steps; the engine log in the data folder has the details.",
        title="Image failed",
    )
