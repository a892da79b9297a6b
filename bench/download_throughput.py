"""Throughput of our resumable downloader vs huggingface_hub.hf_hub_download, on one local server.

Starts the test Hub server (tests/fixtures/hub_server.py) with one 200 MB file, downloads it
once through DownloadQueue and once with hf_hub_download alone (separate cache dirs, same run),
and prints both rates, their ratio (target >= 0.95) and the progress updates per second the
queue emitted (target <= 10). Everything lives in a temp dir removed at exit.

    python bench/download_throughput.py [--mb 200] [--runs 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="file size in MB (default 200)")
    parser.add_argument("--runs", type=int, default=1, help="alternating runs of each (best kept)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="localai-bench-"))
    os.environ["HF_HOME"] = str(work / "hf-home")  # before huggingface_hub is imported
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.pop("HF_TOKEN", None)
    try:
        return _run(work, args.mb * 1_000_000, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, size: int, runs: int) -> int:
    from huggingface_hub import hf_hub_download

    from backends.hub.client import HubClient
    from backends.hub.download_queue import DownloadQueue
    from tests.fixtures.hub_repos import FakeRepo
    from tests.fixtures.hub_server import HubServer

    payload = os.urandom(size)
    server = HubServer()
    server.cdn_redirect = False  # both clients fetch from the same origin: compare transfer only
    server.add_repo(FakeRepo("bench/big", {"model.safetensors": payload}))
    server.start()
    ours: list[float] = []
    theirs: list[float] = []
    updates_per_s: list[float] = []
    try:
        for run in range(runs):
            # ours
            client = HubClient(server.endpoint, None, False, cache_dir=work / f"ours-{run}")
            queue = DownloadQueue(client, state_dir=work / f"state-{run}")
            start = time.perf_counter()
            job = queue.add("bench/big")
            snap = queue.wait(job, ["done", "failed"], timeout=120)
            elapsed = time.perf_counter() - start
            queue.close()
            client.close()
            if snap.state != "done":
                print(f"our download failed: {snap.error_message}")
                return 1
            ours.append(size / elapsed)
            updates_per_s.append(queue.progress_events_sent / elapsed)
            # huggingface_hub alone
            start = time.perf_counter()
            path = hf_hub_download(
                "bench/big",
                "model.safetensors",
                endpoint=server.endpoint,
                cache_dir=work / f"hf-{run}",
                token=False,
            )
            theirs.append(size / (time.perf_counter() - start))
            if os.path.getsize(path) != size:
                print("hf_hub_download produced a wrong size")
                return 1
            shutil.rmtree(work / f"ours-{run}")
            shutil.rmtree(work / f"hf-{run}")
    finally:
        server.stop()
    best_ours, best_theirs = max(ours), max(theirs)
    ratio = best_ours / best_theirs
    mb = size / 1e6
    print(f"file: {mb:.0f} MB from a local server ({runs} run(s), best kept)")
    print(f"ours (DownloadQueue, sha256 verified): {best_ours / 1e6:8.1f} MB/s")
    print(f"hf_hub_download:                       {best_theirs / 1e6:8.1f} MB/s")
    print(f"ratio ours/hf: {ratio:.3f}  (target >= 0.95)  {'OK' if ratio >= 0.95 else 'LOW'}")
    print(f"progress updates/s: {max(updates_per_s):.1f}  (target <= 10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
