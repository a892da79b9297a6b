"""Download one Hub file into the HF cache so that no transferred byte is ever lost.

huggingface_hub 2.4 resumes a cut transfer only within one call and deletes its temp file when
the call fails. Here the partial file is ours and is kept (in data_dir()/downloads/partial,
named by the file's etag) until the file is complete, so a dropped connection, a pause or an
app restart continues with one ranged GET (`Range: bytes=N-`) for the missing bytes:

  1. huggingface_hub.get_hf_file_metadata (HEAD, relative redirects followed, no retries of
     its own): etag, size, commit, download location (a CDN URL for LFS files).
  2. GET the missing bytes into `<etag>.part`; retry transient failures (connection drops,
     429, 5xx) with exponential backoff, honouring Retry-After.
  3. Verify: the size always; sha256 when the Hub gives one (LFS files: the etag is the sha256).
  4. Move into the normal cache layout: blobs/<etag>, snapshots/<commit>/<path> (a relative
     symlink, or a copy where symlinks fail), refs/<revision> -> commit. huggingface_hub's
     try_to_load_from_cache and scan_cache_dir then find it like any other download.

Why not hf_hub_download for a file that has no partial yet: its only stop hook is raising from
its progress bar, and when it stops (pause, quit, cancel, a dropped connection past its own
retries) it unlinks its temp file (file_download._download_to_tmp_and_move), so every byte of
a first download, the one most often interrupted, would be lost, and a restart could not
resume. The ranged GET below is the same transfer with the partial kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from backends.errors import BackendError, CorruptModel, DownloadError, OfflineError

if TYPE_CHECKING:
    import httpx

    from backends.hub.client import HubClient

StopReason = Literal["paused", "cancelled", "shutdown"]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between attempts: base_delay * 2**n, capped; base_delay=0 for tests."""

    attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        return min(self.base_delay * (2**attempt), self.max_delay)


class TransferStopped(Exception):
    """Raised out of fetch_file when the caller paused, cancelled or is shutting down."""

    def __init__(self, reason: StopReason) -> None:
        super().__init__(reason)
        self.reason: StopReason = reason


class TransferControl:
    """Lets another thread stop a transfer (checked between chunks and during backoff)."""

    def __init__(self) -> None:
        self._reason: StopReason | None = None
        self._event = threading.Event()

    def stop(self, reason: StopReason) -> None:
        self._reason = reason
        self._event.set()

    @property
    def reason(self) -> StopReason | None:
        return self._reason

    def raise_if_stopped(self) -> None:
        if self._reason is not None:
            raise TransferStopped(self._reason)

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` for a retry, waking early (and raising) if stopped."""
        if seconds > 0:
            self._event.wait(seconds)
        self.raise_if_stopped()


@dataclass(frozen=True)
class FileMetadata:
    etag: str
    size: int
    commit: str
    location: str


def repo_storage(cache_dir: Path, repo_id: str) -> Path:
    return cache_dir / ("models--" + repo_id.replace("/", "--"))


def snapshot_path(cache_dir: Path, repo_id: str, commit: str, path: str) -> Path:
    return repo_storage(cache_dir, repo_id) / "snapshots" / commit / path


def partial_path(partial_dir: Path, etag: str) -> Path:
    return partial_dir / f"{etag}.part"


def discard_partial(partial_dir: Path, etag: str | None) -> None:
    """Delete a kept partial file and its sidecar (on cancel)."""
    if etag:
        for suffix in (".part", ".json"):
            (partial_dir / f"{etag}{suffix}").unlink(missing_ok=True)


def fetch_metadata(client: HubClient, repo_id: str, path: str, revision: str) -> FileMetadata:
    """HEAD the file with huggingface_hub.get_hf_file_metadata (no retries of its own:
    transient failures come back as _Retryable for fetch_file's backoff)."""
    import httpx2
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    from backends.hub.client import app_version
    from backends.hub.transport import HubUnreachable, fail_fast

    client.ensure_online()
    url = hf_hub_url(repo_id, path, revision=revision, endpoint=client.endpoint)
    try:
        with fail_fast(client.timeout, client.endpoint):
            meta = get_hf_file_metadata(
                url,
                token=client.hf_token(),
                timeout=client.timeout,
                library_name="localai-tui",
                library_version=app_version(),
                endpoint=client.endpoint,
            )
    except OfflineModeIsEnabled:
        raise client.offline_error() from None
    except HfHubHTTPError as exc:
        if exc.response is None:
            raise _Retryable(DownloadError(f"Checking {path} failed. Try again.")) from None
        status, headers = exc.response.status_code, exc.response.headers
        error = client.error_for(status, headers, repo_id, f"checking {path}")
        if status in _RETRY_STATUS:
            raise _Retryable(error, _retry_after(headers)) from None
        raise error from None
    except (HubUnreachable, httpx2.HTTPError):
        raise _Retryable(
            OfflineError(
                f"Can't reach the Hub at {client.endpoint} to download {path}. Check your "
                "connection; the part already downloaded is kept, so resume continues from it."
            )
        ) from None
    if not meta.etag or meta.size is None or not meta.commit_hash:
        raise DownloadError(
            f"The Hub sent incomplete file information for {repo_id}/{path} (no etag, size or "
            "commit). A proxy may be rewriting headers; try again or set HF_ENDPOINT."
        )
    return FileMetadata(meta.etag, meta.size, meta.commit_hash, meta.location)


def fetch_file(
    client: HubClient,
    repo_id: str,
    path: str,
    *,
    revision: str,
    cache_dir: Path,
    partial_dir: Path,
    control: TransferControl,
    on_bytes: Callable[[int], None],
    retry: RetryPolicy,
    expected_sha256: str | None = None,
    on_metadata: Callable[[FileMetadata], None] | None = None,
) -> Path:
    """Download `path` of `repo_id@revision` into `cache_dir`; returns the snapshot path.

    `on_bytes(n)` is called with every chunk written and with the bytes found in a kept
    partial file; the sum of its calls is always the size of the file so far, so a retry
    after a dropped connection does not count the kept bytes again (the panel once showed
    a file complete with a fifth of it missing, and a speed above the server's limit).
    Raises TransferStopped, or a BackendError.
    """
    reported = _Reported(on_bytes)
    meta: FileMetadata | None = None
    for attempt in range(retry.attempts):
        control.raise_if_stopped()
        try:
            if meta is None:
                meta = fetch_metadata(client, repo_id, path, revision)
                if on_metadata is not None:
                    on_metadata(meta)
                pointer = snapshot_path(cache_dir, repo_id, meta.commit, path)
                if pointer.exists():
                    write_ref(cache_dir, repo_id, revision, meta.commit)
                    reported.at(meta.size)
                    return pointer
            return _transfer_and_install(
                client, repo_id, path, revision, meta, cache_dir, partial_dir, control, reported,
                expected_sha256 or (meta.etag if _SHA256.match(meta.etag) else None),
            )  # fmt: skip
        except _Retryable as exc:
            if attempt + 1 >= retry.attempts:
                raise exc.final from None
            control.sleep(retry.delay(attempt, exc.retry_after))
    raise DownloadError(f"Downloading {path} did not finish. Try again.")


class _Reported:
    """What `on_bytes` has been told for one file: new bytes are added, kept ones are a
    position (reported as the difference, usually nothing on a retry)."""

    def __init__(self, on_bytes: Callable[[int], None]) -> None:
        self._on_bytes = on_bytes
        self.total = 0

    def add(self, count: int) -> None:
        self.total += count
        self._on_bytes(count)

    def at(self, position: int) -> None:
        delta, self.total = position - self.total, position
        self._on_bytes(delta)


class _Retryable(Exception):
    def __init__(self, final: BackendError, retry_after: float | None = None) -> None:
        super().__init__(final.message)
        self.final = final
        self.retry_after = retry_after


def _transfer_and_install(
    client: HubClient,
    repo_id: str,
    path: str,
    revision: str,
    meta: FileMetadata,
    cache_dir: Path,
    partial_dir: Path,
    control: TransferControl,
    reported: _Reported,
    sha256: str | None,
) -> Path:
    partial_dir.mkdir(parents=True, exist_ok=True)
    part = partial_path(partial_dir, meta.etag)
    sidecar = part.with_suffix(".json")
    if not sidecar.exists():
        info = {"repo_id": repo_id, "path": path, "commit": meta.commit, "size": meta.size}
        sidecar.write_text(json.dumps(info))
    offset = part.stat().st_size if part.exists() else 0
    if offset > meta.size:
        part.unlink()
        offset = 0
    hasher = hashlib.sha256() if sha256 else None
    if hasher is not None and offset:
        with open(part, "rb") as existing:
            while block := existing.read(8 * 1024 * 1024):
                hasher.update(block)
    reported.at(offset)
    if offset < meta.size:
        _stream_into(client, repo_id, path, meta, part, offset, hasher, control, reported)
    size = part.stat().st_size
    if size != meta.size:
        raise _Retryable(
            DownloadError(f"{path}: got {size} of {meta.size} bytes. Resume the download.")
        )
    if hasher is not None and hasher.hexdigest() != sha256:
        discard_partial(partial_dir, meta.etag)
        raise _Retryable(
            CorruptModel(
                f"{path} from {repo_id} failed its sha256 check and was deleted. "
                "Download it again; if this repeats, the file on the Hub may be changing."
            )
        )
    pointer = _install(cache_dir, repo_id, revision, meta, path, part)
    sidecar.unlink(missing_ok=True)
    return pointer


def _stream_into(
    client: HubClient,
    repo_id: str,
    path: str,
    meta: FileMetadata,
    part: Path,
    offset: int,
    hasher: hashlib._Hash | None,
    control: TransferControl,
    reported: _Reported,
) -> None:
    import httpx

    headers = client.headers_for(meta.location)
    if offset:
        headers["range"] = f"bytes={offset}-"
    try:
        with client.http().stream(
            "GET", meta.location, headers=headers, follow_redirects=True
        ) as response:
            _check_transfer_status(client, response, repo_id, path)
            mode = "ab"
            if offset and response.status_code == 200:  # the server ignored our Range
                mode, hasher = "wb", (hashlib.sha256() if hasher is not None else None)
                reported.at(0)
            with open(part, mode) as out:
                for chunk in response.iter_raw():
                    out.write(chunk)
                    if hasher is not None:
                        hasher.update(chunk)
                    reported.add(len(chunk))
                    if control.reason is not None:
                        break
    except httpx.HTTPError:
        raise _Retryable(
            DownloadError(
                f"The connection dropped while downloading {path} and retries ran out. "
                "The part already downloaded is kept: resume to continue."
            )
        ) from None
    control.raise_if_stopped()


def _check_transfer_status(
    client: HubClient, response: httpx.Response, repo_id: str, path: str
) -> None:
    status = response.status_code
    if status in (200, 206):
        return
    if status in _RETRY_STATUS:
        error = client.error_for(status, response.headers, repo_id, f"downloading {path}")
        raise _Retryable(error, _retry_after(response.headers))
    if status == 416:
        raise _Retryable(DownloadError(f"{path}: the server refused to resume. Try again."))
    raise client.error_for(status, response.headers, repo_id, f"downloading {path}")


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None


def _install(
    cache_dir: Path, repo_id: str, revision: str, meta: FileMetadata, path: str, part: Path
) -> Path:
    """Move a verified partial into blobs/<etag> and point snapshots/<commit>/<path> at it."""
    storage = repo_storage(cache_dir, repo_id)
    blob = storage / "blobs" / meta.etag
    blob.parent.mkdir(parents=True, exist_ok=True)
    if not blob.exists():
        try:
            os.replace(part, blob)
        except OSError:  # data dir and cache on different filesystems
            tmp = blob.with_name(blob.name + ".incomplete")
            shutil.copyfile(part, tmp)
            os.replace(tmp, blob)
            part.unlink(missing_ok=True)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(blob, 0o666 & ~umask)
    else:
        part.unlink(missing_ok=True)
    pointer = storage / "snapshots" / meta.commit / path
    pointer.parent.mkdir(parents=True, exist_ok=True)
    if not pointer.exists():
        try:
            pointer.symlink_to(os.path.relpath(blob, pointer.parent))
        except OSError:  # no symlinks (some Windows setups, some network filesystems)
            shutil.copyfile(blob, pointer)
    write_ref(cache_dir, repo_id, revision, meta.commit)
    return pointer


def write_ref(cache_dir: Path, repo_id: str, revision: str, commit: str) -> None:
    if revision == commit:
        return
    ref = repo_storage(cache_dir, repo_id) / "refs" / revision
    ref.parent.mkdir(parents=True, exist_ok=True)
    if ref.exists() and ref.read_text() == commit:
        return
    tmp = ref.with_name(ref.name + ".tmp")
    tmp.write_text(commit)
    os.replace(tmp, ref)
