"""The Hugging Face Hub client: search pages, model cards, file metadata, with clear errors.

Built from settings (`HubClient.from_settings`) with an explicit endpoint, token and offline
flag; nothing here depends on env vars huggingface_hub read at import time. Every call is
synchronous and blocking (run it in a worker) and raises only BackendError subclasses:
AuthRequired (gated/private, bad token: names the repo and its access page), ModelNotFound,
OfflineError (offline mode, or the Hub unreachable: raised at once, no retries), HubError.
The token never appears in a message, repr or log line.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlsplit

from backends.errors import AuthRequired, BackendError, HubError, OfflineError
from backends.hub.error_map import error_for_status, mapped_hub_errors, offline_mode_error
from backends.hub.model_card import ModelCard
from backends.hub.models import (
    ModelPage,
    RepoFile,
    RepoListing,
    SearchQuery,
    engine_for,
    strip_front_matter,
)
from backends.hub.search import list_models, search_page
from backends.hub.token import HubToken, redact, resolve_token
from backends.models.gguf_quants import group_quants

if TYPE_CHECKING:
    import httpx
    from huggingface_hub import HfApi, ModelInfo

    from backends.settings import Settings

DEFAULT_ENDPOINT = "https://huggingface.co"


@functools.cache
def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("localai-tui")
    except PackageNotFoundError:
        return "dev"


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
        card_cache_dir: Path | str | None = None,
    ) -> None:
        self.endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self._token = HubToken(token, "app") if isinstance(token, str) else token
        self.offline = offline
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.timeout = timeout
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()
        self._card_cache = Path(card_cache_dir) if card_cache_dir is not None else None

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
            self.endpoint,
            token,
            self.offline,
            cache_dir=self.cache_dir,
            timeout=self.timeout,
            card_cache_dir=self._card_cache,
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
        """Headers for our own requests (the resumable transfer): huggingface_hub's user
        agent, no compression; the token goes only to the endpoint's own origin."""
        from huggingface_hub.utils import build_hf_headers

        headers = build_hf_headers(
            token=False, library_name="localai-tui", library_version=app_version()
        )
        headers["accept-encoding"] = "identity"
        if self._token is not None and _same_origin(url, self.endpoint):
            headers["authorization"] = f"Bearer {self._token.reveal()}"
        return headers

    def ensure_online(self) -> None:
        if self.offline:
            raise offline_mode_error()

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
        """The BackendError for a failed Hub answer (status + X-Error-Code / -Message)."""
        return error_for_status(status, headers, repo_id, what, self._token)

    def get_json(self, url: str, repo_id: str | None, what: str, **params: Any) -> Any:
        self.ensure_online()
        with self.transport_errors(what):
            response = self.http().get(
                url, params=params or None, headers=self.headers_for(url), follow_redirects=True
            )
            self.check(response, repo_id, what)
            return response.json()

    # huggingface_hub plumbing ---------------------------------------------------------------

    def hf_token(self) -> str | bool:
        """The token as huggingface_hub takes it: False = anonymous (never its saved login)."""
        return self._token.reveal() if self._token is not None else False

    def hf_api(self) -> HfApi:
        """An HfApi bound to this endpoint and token (HF_ENDPOINT read at import is ignored)."""
        from huggingface_hub import HfApi

        return HfApi(
            endpoint=self.endpoint,
            token=self.hf_token(),
            library_name="localai-tui",
            library_version=app_version(),
        )

    @contextmanager
    def hub_errors(self, what: str, repo_id: str | None = None) -> Iterator[None]:
        """Run huggingface_hub calls: offline check first, no retries when the Hub is
        unreachable, and its exceptions turned into ours (backends/hub/error_map.py)."""
        self.ensure_online()
        with mapped_hub_errors(self.endpoint, self._token, self.timeout, what, repo_id):
            yield

    def offline_error(self) -> OfflineError:
        return offline_mode_error()

    # Search ---------------------------------------------------------------------------------

    def search(self, query: SearchQuery, cursor: str | None = None) -> ModelPage:
        """One page of results. Pass `page.next_cursor` back for the next page.

        Cheap to call per keystroke from an exclusive worker: a page echoes its query, so the
        caller ignores any page whose `.query` is not the current one. Pages come from
        HfApi.list_models (backends/hub/search.py says how its pages are cut).
        """
        with self.hub_errors("searching models"):
            return search_page(self._list_models, query, cursor)

    def _list_models(self, query: SearchQuery, limit: int) -> Iterator[ModelInfo]:
        return list_models(self.hf_api(), query, limit)

    # Model card and files -------------------------------------------------------------------

    def _info(self, repo_id: str, revision: str) -> ModelInfo:
        with self.hub_errors(f"opening {repo_id}", repo_id):
            return self.hf_api().model_info(
                repo_id, revision=revision, files_metadata=True, timeout=self.timeout
            )

    def list_files(self, repo_id: str, revision: str = "main") -> RepoListing:
        """Files (with sizes and LFS sha256) of a revision, resolved to its commit."""
        info = self._info(repo_id, revision)
        return RepoListing(repo_id, revision, info.sha or revision, _files(info), info.pipeline_tag)

    def readme(self, repo_id: str, revision: str = "main") -> str:
        """README.md text with its YAML front matter removed ("" if none or not readable).

        Fetched with hf_hub_download into a small cache of its own (card_cache_dir, default
        data_dir()/hub-cards), not the model cache: a card the user only looked at must not
        show up as a downloaded model. For a commit revision a cached card costs no request.
        """
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import HfHubHTTPError
        from huggingface_hub.utils import silent_tqdm

        with self.hub_errors(f"reading the card of {repo_id}", repo_id):
            try:
                path = hf_hub_download(
                    repo_id,
                    "README.md",
                    revision=revision,
                    cache_dir=self._card_cache_dir(),
                    endpoint=self.endpoint,
                    token=self.hf_token(),
                    etag_timeout=self.timeout,
                    library_name="localai-tui",
                    library_version=app_version(),
                    tqdm_class=cast(Any, silent_tqdm),  # tqdm on stderr would tear the TUI
                )
            except HfHubHTTPError:  # no card, or not readable: the page shows none
                return ""
        text = Path(path).read_bytes().decode("utf-8", errors="replace")
        return strip_front_matter(text)

    def _card_cache_dir(self) -> Path:
        if self._card_cache is not None:
            return self._card_cache
        from backends.paths import data_dir

        return data_dir() / "hub-cards"

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
        tags = tuple(info.tags or ())
        card_license = info.card_data.get("license") if info.card_data is not None else None
        license_ = card_license or next(
            (t.split(":", 1)[1] for t in tags if t.startswith("license:")), None
        )
        has_readme = any(f.path == "README.md" for f in files)
        groups = group_quants(files, n_ctx=n_ctx, free_vram=free_vram, free_ram=free_ram)
        return ModelCard(
            repo_id=info.id or repo_id,
            revision=revision,
            commit=info.sha,
            readme=self.readme(repo_id, info.sha or revision) if has_readme else "",
            tags=tags,
            license=str(license_) if license_ else None,
            task=info.pipeline_tag,
            library=info.library_name,
            gated=bool(info.gated),
            private=bool(info.private),
            downloads=int(info.downloads or 0),
            likes=int(info.likes or 0),
            updated=info.last_modified,
            files=files,
            engine=engine_for(tags, info.library_name, info.pipeline_tag),
            quant_groups=tuple(groups),
        )

    def resolve_url(self, repo_id: str, path: str, revision: str = "main") -> str:
        return f"{self.endpoint}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(path)}"

    def whoami(self) -> str:
        """The account name the token belongs to (to confirm a token the user entered).

        Raises AuthRequired when there is no token or the Hub rejects it.
        """
        if self._token is None:
            raise AuthRequired(
                "No Hugging Face token is set. Paste one when the app asks, set HF_TOKEN, or "
                "run `hf auth login`."
            )
        with self.hub_errors("checking your token"):
            info = self.hf_api().whoami()
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


def _files(info: ModelInfo) -> tuple[RepoFile, ...]:
    files = []
    for sib in info.siblings or ():
        lfs = sib.lfs
        files.append(
            RepoFile(
                path=sib.rfilename,
                size=int(sib.size or (lfs.size if lfs else 0) or 0),
                sha256=lfs.sha256 if lfs else None,
                blob_id=sib.blob_id,
            )
        )
    return tuple(files)
