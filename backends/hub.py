"""The Hugging Face Hub client: search pages, model cards, file metadata, with clear errors.

Built from settings (`HubClient.from_settings`) with an explicit endpoint, token and offline
flag; nothing here depends on env vars huggingface_hub read at import time. Every call is
synchronous and blocking (run it in a worker) and raises only BackendError subclasses:
AuthRequired (gated/private, bad token: names the repo and its access page), ModelNotFound,
OfflineError (offline mode, or the Hub unreachable: raised at once, no retries), HubError.
The token never appears in a message, repr or log line.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from backends.errors import AuthRequired, BackendError, HubError, ModelNotFound, OfflineError
from backends.gguf_quants import group_quants
from backends.hub_models import (
    HUB_SORT,
    ModelCard,
    ModelPage,
    ModelSummary,
    RepoFile,
    RepoListing,
    SearchQuery,
    engine_for,
    strip_front_matter,
)
from backends.hub_token import HubToken, redact, resolve_token

if TYPE_CHECKING:
    import httpx

    from backends.settings import Settings

DEFAULT_ENDPOINT = "https://huggingface.co"
# Fields each search result needs (the Hub's default listing lacks gated and lastModified).
_LIST_FIELDS: tuple[str, ...] = ("downloads", "likes", "lastModified", "gated", "private")
_LIST_FIELDS += ("pipeline_tag", "library_name", "tags")


def default_cache_dir() -> Path:
    """The HF hub cache as huggingface_hub resolves it, read from the env at call time."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class HubClient:
    """One Hub endpoint, one token, one HTTP connection pool. Thread-safe for concurrent calls."""

    def __init__(
        self,
        endpoint: str | None = None,
        token: HubToken | str | None = None,
        offline: bool = False,
        *,
        cache_dir: Path | str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self._token = HubToken(token, "app") if isinstance(token, str) else token
        self.offline = offline
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.timeout = timeout
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, offline: bool | None = None) -> HubClient:
        """Endpoint from settings or HF_ENDPOINT; token from resolve_token(); offline from
        settings.offline, the `offline` argument (--offline) or HF_HUB_OFFLINE."""
        endpoint = settings.hf_endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
        is_offline = bool(offline) or settings.offline or _env_true("HF_HUB_OFFLINE")
        return cls(endpoint, resolve_token(), is_offline)

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return f"HubClient(endpoint={self.endpoint!r}, token={token}, offline={self.offline})"

    @property
    def has_token(self) -> bool:
        return self._token is not None

    @property
    def token(self) -> HubToken | None:
        return self._token

    def with_token(self, token: HubToken | str | None) -> HubClient:
        """A client like this one with another token (after the user enters one)."""
        return HubClient(
            self.endpoint, token, self.offline, cache_dir=self.cache_dir, timeout=self.timeout
        )

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    # HTTP plumbing (shared with the downloader) --------------------------------------------

    def http(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                import httpx

                self._http = httpx.Client(
                    timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
                    limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
                )
            return self._http

    def headers_for(self, url: str) -> dict[str, str]:
        """Request headers; the token goes only to the endpoint's own origin."""
        headers = {"user-agent": "localai-tui; hf_hub-compatible", "accept-encoding": "identity"}
        if self._token is not None and _same_origin(url, self.endpoint):
            headers["authorization"] = f"Bearer {self._token.reveal()}"
        return headers

    def ensure_online(self) -> None:
        if self.offline:
            raise OfflineError(
                "Offline mode is on, so the Hub is not contacted. Models already downloaded "
                "are listed under Models; turn offline mode off to browse."
            )

    @contextmanager
    def transport_errors(self, what: str) -> Iterator[None]:
        """Turn connection failures into OfflineError / HubError (no retries here).

        Raised `from None`: httpx exceptions carry the request, Authorization header included.
        """
        import httpx

        try:
            yield
        except BackendError:
            raise
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise OfflineError(
                f"Can't reach the Hub at {self.endpoint} while {what}. Check your connection; "
                "models already downloaded still work offline."
            ) from None
        except httpx.TimeoutException:
            raise HubError(
                f"The Hub at {self.endpoint} did not answer in time while {what}. Try again."
            ) from None
        except httpx.HTTPError as exc:
            raise HubError(
                f"Network error while {what}: {redact(str(exc), self._token)}. Try again."
            ) from None

    def check(self, response: httpx.Response, repo_id: str | None, what: str) -> None:
        """Raise the right BackendError for a failed Hub response."""
        if response.status_code < 400:
            return
        raise self.error_for(response.status_code, response.headers, repo_id, what)

    def error_for(self, status: int, headers: Any, repo_id: str | None, what: str) -> BackendError:
        code = headers.get("x-error-code", "")
        server_msg = redact(headers.get("x-error-message", ""), self._token)
        page = f"https://huggingface.co/{repo_id}" if repo_id else "https://huggingface.co"
        if code == "GatedRepo":
            if self._token is None:
                return AuthRequired(
                    f"{repo_id} is gated. Request access at {page}, then add a Hugging Face "
                    "token (HF_TOKEN, `hf auth login`, or the token field in Settings)."
                )
            return AuthRequired(
                f"Your token has no access to {repo_id} yet. Request access at {page} "
                "(approval can take a while), then try again."
            )
        if status == 401 and "credentials" in server_msg.lower():
            return AuthRequired(
                f"The Hugging Face token was rejected while {what} ({repo_id or 'the Hub'}). "
                "Create a new read token at https://huggingface.co/settings/tokens and enter it."
            )
        if code == "RepoNotFound" or (status in (401, 404) and not code and repo_id):
            hint = "" if self._token else " If it is private, add a token that can read it."
            if status == 401 and self._token is None:
                return AuthRequired(f"{repo_id} was not found or is private ({page}).{hint}")
            return ModelNotFound(f"{repo_id} was not found on the Hub ({page}).{hint}")
        if code == "RevisionNotFound":
            return ModelNotFound(f"{repo_id} has no such revision. Pick another branch or commit.")
        if code == "EntryNotFound":
            return ModelNotFound(f"That file is not in {repo_id}. Refresh the file list.")
        if status == 403:
            return AuthRequired(f"Access to {repo_id} was refused. Check your access at {page}.")
        if status == 429:
            return HubError("The Hub is rate-limiting requests. Wait a minute and try again.")
        return HubError(
            f"The Hub answered {status} while {what}"
            + (f": {server_msg}" if server_msg else "")
            + ". Try again later."
        )

    def get_json(self, url: str, repo_id: str | None, what: str, **params: Any) -> Any:
        self.ensure_online()
        with self.transport_errors(what):
            response = self.http().get(
                url, params=params or None, headers=self.headers_for(url), follow_redirects=True
            )
            self.check(response, repo_id, what)
            return response.json()

    # Search ---------------------------------------------------------------------------------

    def search(self, query: SearchQuery, cursor: str | None = None) -> ModelPage:
        """One page of results. Pass `page.next_cursor` back for the next page.

        Cheap to call per keystroke from an exclusive worker: a page echoes its query, so the
        caller ignores any page whose `.query` is not the current one.
        """
        self.ensure_online()
        if cursor is not None:
            if not _same_origin(cursor, self.endpoint):
                raise HubError("The Hub sent a next-page link to another host. Search again.")
            url, params = cursor, []
        else:
            url, params = f"{self.endpoint}/api/models", _search_params(query)
        with self.transport_errors("searching models"):
            response = self.http().get(
                url, params=params or None, headers=self.headers_for(url), follow_redirects=True
            )
            self.check(response, None, "searching models")
            raw = response.json()
            next_url = response.links.get("next", {}).get("url")
        items = [_summary(item) for item in raw]
        if query.runs_here:
            items = [m for m in items if m.runs_here]
        return ModelPage(query, tuple(items), next_url, scanned=len(raw))

    # Model card and files -------------------------------------------------------------------

    def _info(self, repo_id: str, revision: str) -> dict[str, Any]:
        url = f"{self.endpoint}/api/models/{repo_id}/revision/{quote(revision, safe='')}"
        info = self.get_json(url, repo_id, f"opening {repo_id}", blobs="true")
        assert isinstance(info, dict)
        return info

    def list_files(self, repo_id: str, revision: str = "main") -> RepoListing:
        """Files (with sizes and LFS sha256) of a revision, resolved to its commit."""
        info = self._info(repo_id, revision)
        return RepoListing(repo_id, revision, info.get("sha") or revision, _files(info))

    def readme(self, repo_id: str, revision: str = "main") -> str:
        """README.md text with its YAML front matter removed ("" if none or not readable)."""
        self.ensure_online()
        url = self.resolve_url(repo_id, "README.md", revision)
        with self.transport_errors(f"reading the card of {repo_id}"):
            response = self.http().get(url, headers=self.headers_for(url), follow_redirects=True)
        if response.status_code >= 400:
            return ""
        return strip_front_matter(response.content.decode("utf-8", errors="replace"))

    def model_card(
        self,
        repo_id: str,
        revision: str = "main",
        *,
        free_vram: int | None = None,
        free_ram: int | None = None,
        n_ctx: int = 4096,
    ) -> ModelCard:
        """Card, tags, license, files; for GGUF repos quant groups with fit marks.

        free_vram / free_ram: free bytes now (from backends/device.py); None = unknown/no GPU.
        """
        info = self._info(repo_id, revision)
        files = _files(info)
        tags = tuple(info.get("tags") or ())
        card_data = info.get("cardData") or {}
        license_ = card_data.get("license") or next(
            (t.split(":", 1)[1] for t in tags if t.startswith("license:")), None
        )
        has_readme = any(f.path == "README.md" for f in files)
        groups = group_quants(files, n_ctx=n_ctx, free_vram=free_vram, free_ram=free_ram)
        return ModelCard(
            repo_id=info.get("id") or repo_id,
            revision=revision,
            commit=info.get("sha"),
            readme=self.readme(repo_id, revision) if has_readme else "",
            tags=tags,
            license=str(license_) if license_ else None,
            task=info.get("pipeline_tag"),
            library=info.get("library_name"),
            gated=bool(info.get("gated")),
            private=bool(info.get("private")),
            downloads=int(info.get("downloads") or 0),
            likes=int(info.get("likes") or 0),
            updated=parse_time(info.get("lastModified")),
            files=files,
            engine=engine_for(tags, info.get("library_name"), info.get("pipeline_tag")),
            quant_groups=tuple(groups),
        )

    def resolve_url(self, repo_id: str, path: str, revision: str = "main") -> str:
        return f"{self.endpoint}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(path)}"

    def whoami(self) -> str:
        """The account name the token belongs to (to confirm a token the user entered).

        Raises AuthRequired when there is no token or the Hub rejects it.
        """
        if self._token is None:
            raise AuthRequired("No Hugging Face token is set. Enter one in Settings.")
        info = self.get_json(f"{self.endpoint}/api/whoami-v2", None, "checking your token")
        return str(info.get("name") or "unknown")

    def is_reachable(self) -> bool:
        """A quick probe (one HEAD to the endpoint, short timeout); False when offline."""
        if self.offline:
            return False
        import httpx

        try:
            self.http().head(self.endpoint, timeout=2.0)
        except httpx.HTTPError:
            return False
        return True


def _same_origin(url: str, endpoint: str) -> bool:
    a, b = urlsplit(url), urlsplit(endpoint)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def _search_params(query: SearchQuery) -> list[tuple[str, str | int | float | bool | None]]:
    params: list[tuple[str, str | int | float | bool | None]] = []
    if query.text.strip():
        params.append(("search", query.text.strip()))
    if query.author:
        params.append(("author", query.author))
    if query.library:
        params.append(("filter", query.library))
        if query.runs_here and query.library == "transformers":
            params.append(("filter", "safetensors"))
    if query.task:
        params.append(("pipeline_tag", query.task))
    params += [("sort", HUB_SORT[query.sort]), ("direction", "-1"), ("limit", str(query.limit))]
    params += [("expand", name) for name in _LIST_FIELDS]
    return params


def _summary(item: dict[str, Any]) -> ModelSummary:
    tags = tuple(item.get("tags") or ())
    task, library = item.get("pipeline_tag"), item.get("library_name")
    return ModelSummary(
        repo_id=item.get("id") or item.get("modelId") or "",
        task=task,
        library=library,
        downloads=int(item.get("downloads") or 0),
        likes=int(item.get("likes") or 0),
        updated=parse_time(item.get("lastModified")),
        gated=bool(item.get("gated")),
        private=bool(item.get("private")),
        tags=tags,
        engine=engine_for(tags, library, task),
    )


def _files(info: dict[str, Any]) -> tuple[RepoFile, ...]:
    files = []
    for sib in info.get("siblings") or ():
        lfs = sib.get("lfs") or {}
        files.append(
            RepoFile(
                path=sib["rfilename"],
                size=int(sib.get("size") or lfs.get("size") or 0),
                sha256=lfs.get("sha256"),
                blob_id=sib.get("blobId"),
            )
        )
    return tuple(files)
