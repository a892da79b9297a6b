"""Search pages over huggingface_hub's HfApi.list_models, with opaque "load more" cursors.

list_models follows the Hub's `Link: rel="next"` pages itself, but in 2.4.0 it has no page-size
knob apart from `limit`, which is also a total cap (an islice over the pages), and it does not
expose the next link. So:
  - the first page of a query asks for `limit + 1` models: one small, fast request while the
    user types; the extra model only says whether there is more;
  - "load more" opens an uncapped list_models iterator (the Hub then picks its page size and
    list_models walks its Link pages lazily), skips what was already shown, and parks it under
    the returned cursor; the next pages are read from it, fetching Hub pages only as needed.
A cursor is `<key>@<offset>`: when its iterator is gone (another client, evicted, a different
query) a new one is opened and `offset` models are skipped, so every cursor stays valid.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from backends.errors import HubError
from backends.hub_models import ModelPage, ModelSummary, SearchQuery, engine_for

if TYPE_CHECKING:
    from huggingface_hub import HfApi, ModelInfo

# Fields each search result needs (the Hub's default listing lacks gated and lastModified).
LIST_FIELDS: tuple[str, ...] = ("downloads", "likes", "lastModified", "gated", "private")
LIST_FIELDS += ("pipeline_tag", "library_name", "tags")
# Our sort keys in list_models' spelling (it maps them to the Hub's own).
_LIST_SORT = {"downloads": "downloads", "likes": "likes", "updated": "last_modified"}
_LIST_SORT["trending"] = "trending_score"
_PARKED = 8  # live iterators kept for "load more" (each holds at most one Hub page)


def list_models(api: HfApi, query: SearchQuery, limit: int | None) -> Iterator[ModelInfo]:
    """HfApi.list_models for our query: library as a filter (2.4.0 has no `library=`)."""
    filters: list[str] = []
    if query.library:
        filters.append(query.library)
        if query.runs_here and query.library == "transformers":
            filters.append("safetensors")
    models = api.list_models(
        search=query.text.strip() or None,
        author=query.author or None,
        filter=filters or None,
        pipeline_tag=query.task or None,
        sort=cast(Any, _LIST_SORT[query.sort]),
        limit=limit,
        expand=cast(Any, list(LIST_FIELDS)),
    )
    return iter(models)


def summary(info: ModelInfo) -> ModelSummary:
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


@dataclass
class _LiveSearch:
    """A list_models iterator part-way through, for the next page of the same query."""

    query: SearchQuery
    models: Iterator[ModelInfo]
    parkable: bool  # False for a capped iterator (spent after `limit` models)
    ahead: list[ModelInfo] = field(default_factory=list)  # pulled to learn there is more

    def take(self, count: int) -> list[ModelInfo]:
        out, self.ahead = self.ahead[:count], self.ahead[count:]
        out += itertools.islice(self.models, count - len(out))
        return out


class SearchPager:
    """Pages of one client's searches; thread-safe (an iterator is used by one call at a time)."""

    def __init__(self, open_models: Callable[[SearchQuery, int | None], Iterator[ModelInfo]]):
        self._open = open_models
        self._parked: OrderedDict[str, _LiveSearch] = OrderedDict()
        self._lock = threading.Lock()

    def page(self, query: SearchQuery, cursor: str | None) -> ModelPage:
        live, offset = self._live(query, cursor)
        models = live.take(query.limit + 1)
        has_more = len(models) > query.limit
        if has_more:
            live.ahead, models = models[query.limit :], models[: query.limit]
        next_cursor = self._park(live, offset + len(models)) if has_more else None
        items = [summary(m) for m in models]
        if query.runs_here:
            items = [m for m in items if m.runs_here]
        return ModelPage(query, tuple(items), next_cursor, scanned=len(models))

    def _live(self, query: SearchQuery, cursor: str | None) -> tuple[_LiveSearch, int]:
        if cursor is None:
            return _LiveSearch(query, self._open(query, query.limit + 1), parkable=False), 0
        key, _, offset_text = cursor.rpartition("@")
        if not offset_text.isdigit():
            raise HubError("That next-page cursor is not one this app made. Search again.")
        offset = int(offset_text)
        with self._lock:
            live = self._parked.pop(key, None)
        if live is None or live.query != query:
            live = _LiveSearch(query, self._open(query, None), parkable=True)
            live.take(offset)
        return live, offset

    def _park(self, live: _LiveSearch, offset: int) -> str:
        key = uuid.uuid4().hex[:12]
        if live.parkable:
            with self._lock:
                self._parked[key] = live
                while len(self._parked) > _PARKED:
                    self._parked.popitem(last=False)
        return f"{key}@{offset}"
