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
import itertools
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlsplit

from backends.errors import AuthRequired, BackendError, HubError, ModelNotFound, OfflineError
from backends.gguf_quants import group_quants
from backends.hub_models import (
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
from backends.hub_transport import HubUnreachable, fail_fast

if TYPE_CHECKING:
    import httpx
    from huggingface_hub import HfApi, ModelInfo

    from backends.settings import Settings

DEFAULT_ENDPOINT = "https://huggingface.co"
# Fields each search result needs (the Hub's default listing lacks gated and lastModified).
_LIST_FIELDS: tuple[str, ...] = ("downloads", "likes", "lastModified", "gated", "private")
_LIST_FIELDS += ("pipeline_tag", "library_name", "tags")
# Our sort keys in list_models' spelling (it maps them to the Hub's own).
_LIST_SORT = {"downloads": "downloads", "likes": "likes", "updated": "last_modified"}
_LIST_SORT["trending"] = "trending_score"
_PARKED_SEARCHES = 8  # live list_models iterators kept for "load more"


@functools.cache
def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("localai-tui")
    except PackageNotFoundError:
        return "dev"


@dataclass
class _LiveSearch:
    """A list_models iterator part-way through, for the next page of the same query."""

    query: SearchQuery
    models: Iterator[ModelInfo]
    parkable: bool  # False for a capped list_models (spent after `limit` items)
    ahead: list[ModelInfo] = field(default_factory=list)  # pulled to learn there is more

    def take(self, count: int) -> list[ModelInfo]:
        out, self.ahead = self.ahead[:count], self.ahead[count:]
        out += itertools.islice(self.models, count - len(out))
        return out


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
        self._parked: OrderedDict[str, _LiveSearch] = OrderedDict()
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
        """Request headers; the token goes only to the endpoint's own origin."""
        headers = {"user-agent": "localai-tui; hf_hub-compatible", "accept-encoding": "identity"}
        if self._token is not None and _same_origin(url, self.endpoint):
            headers["authorization"] = f"Bearer {self._token.reveal()}"
        return headers

    def ensure_online(self) -> None:
        if self.offline:
            raise self.offline_error()

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
        unreachable, and its exceptions turned into ours with the messages error_for writes.

        Raised `from None`: huggingface_hub's errors carry the request, token included.
        """
        import httpx2
        from huggingface_hub.errors import (
            HfHubHTTPError,
            HFValidationError,
            LocalEntryNotFoundError,
            OfflineModeIsEnabled,
        )

        self.ensure_online()
        unreachable = OfflineError(
            f"Can't reach the Hub at {self.endpoint} while {what}. Check your connection; "
            "models already downloaded still work offline."
        )
        slow = HubError(
            f"The Hub at {self.endpoint} did not answer in time while {what}. Try again."
        )
        try:
            with fail_fast(self.timeout, self.endpoint):
                yield
        except BackendError:
            raise
        except HubUnreachable as exc:
            raise (slow if exc.timed_out else unreachable) from None
        except OfflineModeIsEnabled:
            raise self.offline_error() from None
        except HfHubHTTPError as exc:
            response = exc.response
            if response is None:
                raise HubError(f"The Hub failed while {what}. Try again later.") from None
            raise self.error_for(response.status_code, response.headers, repo_id, what) from None
        except LocalEntryNotFoundError:  # hf_hub_download: no answer and nothing cached
            raise unreachable from None
        except HFValidationError:
            page = f"https://huggingface.co/{repo_id}"
            raise ModelNotFound(f"{repo_id} was not found on the Hub ({page}).") from None
        except (httpx2.ConnectError, httpx2.ConnectTimeout):
            raise unreachable from None
        except httpx2.TimeoutException:
            raise slow from None
        except httpx2.HTTPError as exc:
            raise HubError(
                f"Network error while {what}: {redact(str(exc), self._token)}. Try again."
            ) from None

    def offline_error(self) -> OfflineError:
        return OfflineError(
            "Offline mode is on, so the Hub is not contacted. Models already downloaded "
            "are listed under Models; turn offline mode off to browse."
        )

    # Search ---------------------------------------------------------------------------------

    def search(self, query: SearchQuery, cursor: str | None = None) -> ModelPage:
        """One page of results. Pass `page.next_cursor` back for the next page.

        Cheap to call per keystroke from an exclusive worker: a page echoes its query, so the
        caller ignores any page whose `.query` is not the current one.

        Pages come from HfApi.list_models, which follows the Hub's Link pages itself but has
        no page-size knob apart from `limit`, which is also a total cap (islice). So the first
        page asks for `limit + 1` models (small and fast while the user types; the extra one
        tells whether there is more), and "load more" opens an uncapped list_models iterator
        (the Hub picks its page size), skips what was shown and parks it in this client under
        the returned cursor; the pages after that come from it. A cursor this client no longer
        holds (another client, evicted) still works: its offset is re-skipped.
        """
        with self.hub_errors("searching models"):
            live, offset = self._live_search(query, cursor)
            models = live.take(query.limit + 1)
        has_more = len(models) > query.limit
        if has_more:
            live.ahead = models[query.limit :]
            models = models[: query.limit]
        next_cursor = self._park(live, offset + len(models)) if has_more else None
        items = [_summary(m) for m in models]
        if query.runs_here:
            items = [m for m in items if m.runs_here]
        return ModelPage(query, tuple(items), next_cursor, scanned=len(models))

    def _live_search(self, query: SearchQuery, cursor: str | None) -> tuple[_LiveSearch, int]:
        if cursor is None:
            return _LiveSearch(query, self._list_models(query, query.limit + 1), False), 0
        key, _, offset_text = cursor.rpartition("@")
        try:
            offset = int(offset_text)
        except ValueError:
            raise HubError(
                "That next-page cursor is not one this app made. Search again."
            ) from None
        with self._lock:
            live = self._parked.pop(key, None)
        if live is None or live.query != query:
            live = _LiveSearch(query, self._list_models(query, None), True)
            live.take(offset)
        return live, offset

    def _park(self, live: _LiveSearch, offset: int) -> str:
        key = uuid.uuid4().hex[:12]
        if live.parkable:
            with self._lock:
                self._parked[key] = live
                while len(self._parked) > _PARKED_SEARCHES:
                    self._parked.popitem(last=False)
        return f"{key}@{offset}"

    def _list_models(self, query: SearchQuery, limit: int | None) -> Iterator[ModelInfo]:
        filters: list[str] = []
        if query.library:
            filters.append(query.library)
            if query.runs_here and query.library == "transformers":
                filters.append("safetensors")
        models = self.hf_api().list_models(
            search=query.text.strip() or None,
            author=query.author or None,
            filter=filters or None,
            pipeline_tag=query.task or None,
            sort=cast(Any, _LIST_SORT[query.sort]),
            limit=limit,
            expand=cast(Any, list(_LIST_FIELDS)),
        )
        return iter(models)

    # Model card and files -------------------------------------------------------------------

    def _info(self, repo_id: str, revision: str) -> ModelInfo:
        with self.hub_errors(f"opening {repo_id}", repo_id):
            return self.hf_api().model_info(
                repo_id, revision=revision, files_metadata=True, timeout=self.timeout
            )

    def list_files(self, repo_id: str, revision: str = "main") -> RepoListing:
        """Files (with sizes and LFS sha256) of a revision, resolved to its commit."""
        info = self._info(repo_id, revision)
        return RepoListing(repo_id, revision, info.sha or revision, _files(info))

    def readme(self, repo_id: str, revision: str = "main") -> str:
        """README.md text with its YAML front matter removed ("" if none or not readable).

        Fetched with hf_hub_download into a small cache of its own (card_cache_dir, default
        data_dir()/hub-cards), not the model cache: a card the user only looked at must not
        show up as a downloaded model. For a commit revision a cached card costs no request.
        """
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import HfHubHTTPError

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
            raise AuthRequired("No Hugging Face token is set. Enter one in Settings.")
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


def _summary(info: ModelInfo) -> ModelSummary:
    tags = tuple(info.tags or ())
    task, library = info.pipeline_tag, info.library_name
    return ModelSummary(
        repo_id=info.id,
        task=task,
        library=library,
        downloads=int(info.downloads or 0),
        likes=int(info.likes or 0),
        updated=info.last_modified,
        gated=bool(info.gated),
        private=bool(info.private),
        tags=tags,
        engine=engine_for(tags, library, task),
    )


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
