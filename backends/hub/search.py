"""Search pages over huggingface_hub's HfApi.list_models, with opaque "load more" cursors.

list_models follows the Hub's `Link: rel="next"` pages itself, but in 2.4.0 `limit` is both the
page size it sends to the Hub and a total cap (an islice over the pages), and it never exposes
the next link or accepts an offset. An uncapped iterator lets the Hub pick the page size (its
default, far more than a screen), which would make every keystroke of search-as-you-type fetch
hundreds of models; a capped one cannot be continued. So each page is one list_models call
capped at `offset + limit + 1` that skips the `offset` models already shown (the extra model
only says whether there is more). Page k thus re-reads the k-1 pages before it in the same
request: cheap for the few pages people scroll, and no iterator state is kept, so a cursor (the
offset) stays valid across threads and clients. When the cap passes the Hub's page size,
list_models walks the Link pages itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from backends.errors import HubError
from backends.hub.models import ModelPage, ModelSummary, SearchQuery, engine_for

if TYPE_CHECKING:
    from huggingface_hub import HfApi, ModelInfo

# Fields each search result needs (the Hub's default listing lacks gated and lastModified).
LIST_FIELDS: tuple[str, ...] = ("downloads", "likes", "lastModified", "gated", "private")
LIST_FIELDS += ("pipeline_tag", "library_name", "tags")
# Our sort keys in list_models' spelling (it maps them to the Hub's own).
_LIST_SORT = {"downloads": "downloads", "likes": "likes", "updated": "last_modified"}
_LIST_SORT["trending"] = "trending_score"


def list_models(api: HfApi, query: SearchQuery, limit: int) -> Iterator[ModelInfo]:
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


def search_page(
    open_models: Callable[[SearchQuery, int], Iterator[ModelInfo]],
    query: SearchQuery,
    cursor: str | None,
) -> ModelPage:
    """One page of `query` after `cursor` (None: the first page)."""
    offset = _offset(cursor)
    models = list(itertools.islice(open_models(query, offset + query.limit + 1), offset, None))
    has_more = len(models) > query.limit
    models = models[: query.limit]
    next_cursor = f"offset={offset + len(models)}" if has_more else None
    items = [summary(m) for m in models]
    if query.runs_here:
        items = [m for m in items if m.runs_here]
    return ModelPage(query, tuple(items), next_cursor, scanned=len(models))


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    name, _, value = cursor.partition("=")
    if name != "offset" or not value.isdigit():
        raise HubError("That next-page cursor is not one this app made. Search again.")
    return int(value)
