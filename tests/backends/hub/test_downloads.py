"""Downloads that never lose work: cuts, restarts, pause/resume, cancel, 503s.

Every finished file must be byte-identical to the server's and findable by
huggingface_hub.try_to_load_from_cache in the test's own cache dir.
"""

from __future__ import annotations

import threading
from pathlib import Path

from huggingface_hub import scan_cache_dir, try_to_load_from_cache

from backends.hub.client import HubClient
from backends.hub.download_queue import DownloadQueue
from tests.fixtures.hub_server import HubServer

REPO = "acme/tiny-chat-GGUF"
Q8 = "tiny-chat-Q8_0.gguf"


def _cached_bytes(cache_dir: Path, repo: str, path: str) -> bytes:
    found = try_to_load_from_cache(repo, path, cache_dir=cache_dir)
    assert isinstance(found, str), f"{path} not in cache"
    return Path(found).read_bytes()


def _range_starts(hub: HubServer, path: str) -> list[int]:
    starts = []
    for method, headers in hub.resolve_requests(path):
        rng = {k.lower(): v for k, v in headers.items()}.get("range")
        if method == "GET":
            starts.append(int(rng[6:].split("-")[0]) if rng else 0)
    return starts


def _start_held_q8(hub: HubServer, make_queue) -> tuple[DownloadQueue, str, threading.Event]:
    """Start downloading Q8 with the server stalled half-way; returns (queue, job, release)."""
    reached, release = hub.hold_at(Q8, 0.5)
    q = make_queue()
    job = q.add(REPO, allow_patterns=[Q8])
    assert reached.wait(10)
    return q, job, release


def test_quant_download_lands_in_hf_cache(hub: HubServer, cache_dir: Path, make_queue) -> None:
    q = make_queue()
    job = q.add(REPO, allow_patterns=["tiny-chat-Q4_K_M.gguf", "mmproj-*.gguf"])
    snap = q.wait(job, ["done", "failed"])
    assert snap.state == "done", snap.error_message
    assert [f.path for f in snap.files] == ["mmproj-tiny-chat-f16.gguf", "tiny-chat-Q4_K_M.gguf"]
    assert snap.done_bytes == snap.total_bytes == 420_000
    repo = hub.repos[REPO]
    assert (
        _cached_bytes(cache_dir, REPO, "tiny-chat-Q4_K_M.gguf")
        == repo.files["tiny-chat-Q4_K_M.gguf"]
    )
    info = scan_cache_dir(cache_dir)
    (cached,) = info.repos
    assert cached.repo_id == REPO and cached.size_on_disk == 420_000
    assert {rev.commit_hash for rev in cached.revisions} == {repo.commit}
    assert (cache_dir / "models--acme--tiny-chat-GGUF/refs/main").read_text() == repo.commit


def test_cut_connection_resumes_with_range(hub: HubServer, cache_dir: Path, make_queue) -> None:
    hub.cut_next(Q8, 0.5)
    q = make_queue()
    job = q.add(REPO, allow_patterns=[Q8])
    snap = q.wait(job, ["done", "failed"])
    assert snap.state == "done", snap.error_message
    starts = _range_starts(hub, Q8)
    assert starts[0] == 0 and len(starts) == 2
    assert 200_000 <= starts[1] <= 260_000  # the second GET asked only for the missing bytes
    assert _cached_bytes(cache_dir, REPO, Q8) == hub.repos[REPO].files[Q8]


def test_progress_after_a_cut_counts_each_byte_once(hub: HubServer, make_queue) -> None:
    """Cut at 25 %, the retry stalled further on: the panel shows what is on disk, and the
    speed samples hold only bytes that were transferred (the kept 25 % were counted twice)."""
    hub.cut_next(Q8, 0.25)
    reached, release = hub.hold_at(Q8, 0.5)  # stalls the retry
    q = make_queue(progress_interval=0.0)
    job = q.add(REPO, allow_patterns=[Q8])
    try:
        assert reached.wait(10)
        retry_start = _range_starts(hub, Q8)[-1]
        assert retry_start == 130_000  # 25 % of 520,000, asked for with Range
        sent = retry_start + 262_144  # the server's first chunk of the retry, then it stalls
        _wait_for(lambda: q.job(job).done_bytes >= sent)
        snap = q.job(job)
        assert snap.done_bytes == sent < snap.total_bytes
        assert snap.files[0].done_bytes == sent
        samples = q._jobs[job].samples  # what the speed is computed from
        assert max(b for _, b in samples) - samples[0][1] <= sent
    finally:
        release.set()
    done = q.wait(job, ["done", "failed"])
    assert done.state == "done" and done.done_bytes == done.total_bytes


def _wait_for(condition, tries: int = 2000) -> None:  # type: ignore[no-untyped-def]
    event = threading.Event()
    for _ in range(tries):
        if condition():
            return
        event.wait(0.005)
    raise AssertionError("timed out")


def test_restart_resumes_from_kept_partial(
    hub: HubServer, cache_dir: Path, client: HubClient, make_queue, state_dir: Path
) -> None:
    first, job, release = _start_held_q8(hub, make_queue)
    first.close(timeout=0)  # the app quits mid-transfer
    release.set()
    first.close()
    assert first.job(job).state == "queued"
    parts = list((state_dir / "partial").glob("*.part"))
    assert len(parts) == 1 and 0 < parts[0].stat().st_size < 520_000
    kept = parts[0].stat().st_size
    assert try_to_load_from_cache(REPO, Q8, cache_dir=cache_dir) is None

    second = make_queue()  # a new app run reads queue.json and the kept partial
    snap = second.wait(job, ["done", "failed"])
    assert snap.state == "done", snap.error_message
    assert _range_starts(hub, Q8)[-1] == kept
    assert _cached_bytes(cache_dir, REPO, Q8) == hub.repos[REPO].files[Q8]
    assert not list((state_dir / "partial").glob("*"))


def test_pause_then_resume(hub: HubServer, cache_dir: Path, make_queue, state_dir: Path) -> None:
    q, job, release = _start_held_q8(hub, make_queue)
    q.pause(job)
    release.set()
    paused = q.wait(job, ["paused"])
    assert 0 < paused.done_bytes < paused.total_bytes
    q.resume(job)
    snap = q.wait(job, ["done", "failed"])
    assert snap.state == "done", snap.error_message
    assert _range_starts(hub, Q8)[-1] > 0
    assert _cached_bytes(cache_dir, REPO, Q8) == hub.repos[REPO].files[Q8]


def test_cancel_leaves_nothing_corrupt(
    hub: HubServer, cache_dir: Path, make_queue, state_dir: Path
) -> None:
    q, job, release = _start_held_q8(hub, make_queue)
    q.cancel(job)
    release.set()
    assert q.wait(job, ["cancelled"]).state == "cancelled"
    assert try_to_load_from_cache(REPO, Q8, cache_dir=cache_dir) is None
    assert not list(cache_dir.rglob("blobs/*"))
    assert not list((state_dir / "partial").glob("*"))
    assert job not in (q2 := make_queue()).jobs() and not q2.jobs()  # not restored either


def test_503_with_retry_after_is_retried(hub: HubServer, cache_dir: Path, make_queue) -> None:
    hub.fail_next(2)
    q = make_queue()
    job = q.add("acme/tiny-llama", allow_patterns=["config.json"])
    snap = q.wait(job, ["done", "failed"])
    assert snap.state == "done", snap.error_message
    assert (
        _cached_bytes(cache_dir, "acme/tiny-llama", "config.json")
        == hub.repos["acme/tiny-llama"].files["config.json"]
    )


def test_progress_is_coalesced(hub: HubServer, make_queue) -> None:
    q = make_queue(progress_interval=3600.0)  # no tick is due during this download
    job = q.add(REPO, allow_patterns=["tiny-chat-F16-*"])
    assert q.wait(job, ["done", "failed"]).state == "done"
    events = q.drain_events()
    progress = [e.job for e in events if e.kind == "progress"]
    # No tick was due: the only progress events are the one sent as each file completes.
    assert len(progress) == len(progress[-1].files) >= 2
    assert [sum(f.done for f in j.files) for j in progress] == list(range(1, len(progress) + 1))
    assert [e.job.state for e in events if e.kind != "progress"][-1] == "done"
    assert events[-1].job.done_bytes == events[-1].job.total_bytes == 980_000


def test_pause_and_immediate_resume_still_finishes(hub: HubServer, make_queue) -> None:
    q, job, release = _start_held_q8(hub, make_queue)
    q.pause(job)
    q.resume(job)  # before the worker noticed the pause
    release.set()
    assert q.wait(job, ["done", "failed", "paused"]).state == "done"


def test_paused_job_stays_paused_after_restart(hub: HubServer, make_queue) -> None:
    first, job, release = _start_held_q8(hub, make_queue)
    first.pause(job)
    release.set()
    first.wait(job, ["paused"])
    first.close()
    second = make_queue()
    assert second.job(job).state == "paused"
    restored = second.job(job)
    assert restored.total_bytes == 520_000 and 0 < restored.done_bytes < 520_000
    second.resume(job)
    assert second.wait(job, ["done", "failed"]).state == "done"


def test_renamed_repo_and_cdn_redirects(hub: HubServer, cache_dir: Path, make_queue) -> None:
    """A renamed repo answers 307 (followed); LFS files come from another origin (the CDN),
    which refuses requests that carry the Hub token, so none may be forwarded there."""
    hub.aliases["acme/old-llama"] = "acme/tiny-llama"
    q = make_queue()
    job = q.add("acme/old-llama", allow_patterns=["*.safetensors"])
    snap = q.wait(job, ["done", "failed"])
    assert snap.state == "done", snap.error_message
    data = hub.repos["acme/tiny-llama"].files["model.safetensors"]
    assert _cached_bytes(cache_dir, "acme/old-llama", "model.safetensors") == data
    assert any(p.startswith("/cdn/") for _, p, _ in hub.requests)


def test_download_keeps_the_repos_task_for_offline_use(hub: HubServer, make_queue) -> None:
    from backends.tasks.task_detection import saved_tasks

    q = make_queue()
    job = q.add(REPO, allow_patterns=["tiny-chat-Q4_K_M.gguf"])
    assert q.wait(job, ["done", "failed"]).state == "done"
    assert saved_tasks()[REPO] == "image-text-to-text"
