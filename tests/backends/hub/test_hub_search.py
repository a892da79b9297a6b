"""Search, filters, sort and Link pagination against the local Hub server."""

from __future__ import annotations

from backends.hub.client import HubClient
from backends.hub.models import SearchQuery


def test_search_text_and_library_filter_sorted_by_downloads(client: HubClient) -> None:
    page = client.search(SearchQuery(text="chat", library="gguf", sort="downloads", limit=5))
    assert [m.repo_id for m in page.items] == [
        "acme/tiny-chat-GGUF",
        "bulk/chat-24",
        "bulk/chat-23",
        "bulk/chat-22",
        "bulk/chat-21",
    ]
    first = page.items[0]
    assert first.task == "image-text-to-text"
    assert first.downloads == 5000 and first.likes == 40
    assert first.updated is not None and first.updated.year == 2026
    assert first.engine == "llama_cpp" and first.runs_here


def test_pagination_follows_link_cursor_to_the_end(client: HubClient) -> None:
    query = SearchQuery(library="gguf", sort="likes", limit=10)
    seen: list[str] = []
    page = client.search(query)
    pages = 1
    while True:
        seen += [m.repo_id for m in page.items]
        if not page.has_more:
            break
        page = client.search(query, page.next_cursor)
        assert page.query == query  # the page says which query it answers
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 26
    assert seen[:2] == ["acme/tiny-chat-GGUF", "bulk/chat-00"]  # likes 40, then 25


def test_task_filter_and_sort_by_updated(client: HubClient) -> None:
    page = client.search(SearchQuery(task="text-to-image", sort="updated"))
    assert [m.repo_id for m in page.items] == ["other/tiny-sd"]
    updated = client.search(SearchQuery(text="acme", sort="updated"))
    assert [m.repo_id for m in updated.items] == [
        "acme/tiny-chat-GGUF",
        "acme/tiny-llama",
        "acme/gated-llama",
    ]


def test_gated_marker_and_private_repos_hidden(client: HubClient) -> None:
    page = client.search(SearchQuery(text="acme"))
    by_id = {m.repo_id: m for m in page.items}
    assert by_id["acme/gated-llama"].gated
    assert not by_id["acme/tiny-llama"].gated
    assert "acme/secret-model" not in by_id


def test_runs_here_keeps_models_our_engines_load(client: HubClient) -> None:
    text_gen = client.search(SearchQuery(task="text-generation", runs_here=True, limit=50))
    ids = {m.repo_id for m in text_gen.items}
    assert "acme/tiny-llama" in ids and "bulk/chat-01" in ids
    transformers_only = client.search(
        SearchQuery(library="transformers", runs_here=True, sort="downloads")
    )
    assert [m.repo_id for m in transformers_only.items] == ["acme/tiny-llama", "acme/gated-llama"]
    assert all(m.engine == "transformers" for m in transformers_only.items)
