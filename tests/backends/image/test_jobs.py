"""The image queue with a real engine: three prompts, the middle one cancelled."""

from __future__ import annotations

import threading

import pytest

from backends.base import ModelSpec
from backends.image.diffusers_engine import DiffusersEngine
from backends.image.jobs import ImageQueue, run_job
from backends.image.png_metadata import read_parameters, request_from_parameters
from backends.image.protocol import GenerationCancelled, ImageLoadOptions, ImageRequest
from backends.store.gallery import GalleryStore

pytestmark = pytest.mark.slow


def test_queue_of_three_with_the_middle_cancelled(tiny_sd_spec: ModelSpec, tmp_path) -> None:
    engine = DiffusersEngine()
    engine.load(tiny_sd_spec, ImageLoadOptions())
    gallery = GalleryStore(tmp_path / "gallery.sqlite3")
    queue = ImageQueue()
    jobs = [
        queue.add(ImageRequest(prompt=f"prompt {n}", steps=3, width=64, height=64, seed=n))
        for n in range(3)
    ]
    queue.cancel(jobs[1].id)  # queued: just dropped
    saved = []
    while (job := queue.take()) is not None:
        outcome = run_job(
            engine,
            job,
            model="tiny-sd",
            outputs_dir=tmp_path / "out",
            gallery=gallery,
            on_step=lambda step: None,
        )
        queue.finish(job, "done")
        saved.append(outcome.saved)

    assert [s.prompt for s in saved] == ["prompt 0", "prompt 2"]
    assert [i.prompt for i in gallery.images()] == ["prompt 2", "prompt 0"]
    pngs = sorted((tmp_path / "out").rglob("*.png"))
    assert len(pngs) == 2
    back = request_from_parameters(read_parameters(pngs[0]) or "")
    assert back.prompt in ("prompt 0", "prompt 2") and back.steps == 3

    running = queue.add(ImageRequest(prompt="stopped", steps=20, width=64, height=64))
    job = queue.take()

    def cancel_at_second_step(step) -> None:
        if step.step == 2:
            queue.cancel(running.id)

    with pytest.raises(GenerationCancelled):
        run_job(
            engine,
            job,
            model="tiny-sd",
            outputs_dir=tmp_path / "out",
            gallery=gallery,
            on_step=cancel_at_second_step,
        )
    assert job.last_step is not None and job.last_step.step <= 3
    assert len(list((tmp_path / "out").rglob("*.png"))) == 2  # nothing half-made
    assert len(gallery.images()) == 2
    engine.unload()


class _BrokenEngine:
    """Stands for an engine with a bug (what EDMEulerScheduler did inside diffusers)."""

    name = "broken"
    loaded = True

    def generate(self, request, cancel=None):  # noqa: ANN001, ANN202
        raise TypeError("unsupported operand type(s) for *: 'NoneType' and 'Tensor'")
        yield


def test_an_engine_exception_reaches_the_user_as_a_sentence(tmp_path) -> None:  # noqa: ANN001
    from backends.errors import BackendError

    job = ImageQueue().add(ImageRequest(prompt="x"))
    with pytest.raises(BackendError) as caught:
        run_job(
            _BrokenEngine(),  # type: ignore[arg-type]
            job,
            model="m",
            outputs_dir=tmp_path,
            gallery=GalleryStore(tmp_path / "g.sqlite3"),
            on_step=lambda step: None,
        )

    assert "TypeError" not in caught.value.message
    assert caught.value.message.startswith("The image engine failed on this request")
    assert "default sampler" in caught.value.message


def test_a_waiting_worker_wakes_for_a_new_job_and_ends_on_close() -> None:
    from backends.image.jobs import ImageQueue
    from backends.image.protocol import ImageRequest

    queue = ImageQueue()
    woke: list[bool] = []
    waiter = threading.Thread(target=lambda: woke.append(queue.wait_for_job(30)))
    waiter.start()
    queue.add(ImageRequest("next"))
    waiter.join(10)
    assert woke == [True]
    queue.take()
    waiter = threading.Thread(target=lambda: woke.append(queue.wait_for_job(30)))
    waiter.start()
    queue.close()
    waiter.join(10)
    assert woke == [True, False] and not waiter.is_alive()
