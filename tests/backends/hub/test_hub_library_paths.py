"""The client goes through huggingface_hub's own code paths (HfApi, list_models pagination,
get_hf_file_metadata), and the file list of a job is retried while the Hub is unreachable."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from backends.hub.client import HubClient
from backends.hub.models import SearchQuery
from backends.hub.resumable_download import RetryPolicy
from tests.fixtures.hub_repos import default_repos
from tests.fixtures.hub_server import GOOD_TOKEN, HubServer

WRONG = "hf_wrongTOKENnotKNOWN987654321"


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_api_and_head_requests_come_from_huggingface_hub(
    hub: HubServer, client: HubClient, make_queue
) -> None:
    client.search(SearchQuery(text="chat", library="gguf", limit=3))
    card = client.model_card("acme/tiny-llama")
    assert card.readme.startswith("# Tiny Llama")
    q = make_queue()
    job = q.add("acme/tiny-llama", allow_patterns=["config.json"])
    assert q.wait(job, ["done", "failed"]).state == "done"
    api_or_head = [
        (method, path, _lower(headers))
        for method, path, headers in hub.requests
        if path.startswith("/api/") or method == "HEAD"
    ]
    paths = {path for _, path, _ in api_or_head}
    assert {"/api/models", "/api/models/acme/tiny-llama/revision/main"} <= paths
    assert any(method == "HEAD" for method, _, _ in api_or_head)
    for _, _, headers in api_or_head:
        # huggingface_hub's user agent and the request id its session hook adds
        assert "hf_hub/" in headers["user-agent"] and "localai-tui/" in headers["user-agent"]
        assert "x-amzn-trace-id" in headers


def test_load_more_follows_the_hubs_link_pages(hub: HubServer, client: HubClient) -> None:
    hub.page_size_cap = 4  # the Hub pages at 4: list_models must follow its Link headers
    try:
        query = SearchQuery(library="gguf", sort="likes", limit=5)
        seen: list[str] = []
        page = client.search(query)
        while True:
            seen += [m.repo_id for m in page.items]
            if not page.has_more:
                break
            page = client.search(query, page.next_cursor)
    finally:
        hub.page_size_cap = 1000
    assert len(seen) == len(set(seen)) == 26
    assert seen[:2] == ["acme/tiny-chat-GGUF", "bulk/chat-00"]
    listing = [p for m, p, _ in hub.requests if p == "/api/models"]
    # page k asks list_models for 5k + 1 models; it walks ceil(n / 4) Hub pages (26 at most)
    assert len(listing) == 2 + 3 + 4 + 6 + 7 + 7


def test_a_cursor_from_another_client_still_continues(hub: HubServer, client: HubClient) -> None:
    query = SearchQuery(library="gguf", sort="likes", limit=10)
    first = client.search(query)
    other = client.with_token(None)  # e.g. the TUI rebuilt its client after a token change
    second = other.search(query, first.next_cursor)
    ids = [m.repo_id for m in first.items + second.items]
    assert len(ids) == len(set(ids)) == 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class _HubComesBack(RetryPolicy):
    """No wait between attempts; when the first retry is due the Hub starts listening."""

    port: int = 0
    started: list[HubServer] = field(default_factory=list)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if not self.started:
            server = HubServer(self.port)
            for repo in default_repos():
                server.add_repo(repo)
            self.started.append(server.start())
        return 0.0


def test_file_list_is_retried_while_the_hub_is_unreachable(cache_dir: Path, make_queue) -> None:
    port = _free_port()  # nothing listens there yet: connection refused
    client = HubClient(f"http://127.0.0.1:{port}", None, False, cache_dir=cache_dir)
    policy = _HubComesBack(attempts=3, base_delay=0.0, port=port)
    q = make_queue(client, retry=policy)
    try:
        job = q.add("acme/tiny-llama", allow_patterns=["config.json"])
        snap = q.wait(job, ["done", "failed"])
        assert snap.state == "done", snap.error_message
        assert [f.path for f in snap.files] == ["config.json"]
        (server,) = policy.started
        assert server.requests[0][1] == "/api/models/acme/tiny-llama/revision/main"
    finally:
        q.close()
        for server in policy.started:
            server.stop()


def test_huggingface_hub_offline_mode_is_our_offline_error(
    hub: HubServer, client: HubClient, monkeypatch
) -> None:
    """HF_HUB_OFFLINE read by huggingface_hub at import time: its refusal becomes ours."""
    from huggingface_hub import constants

    from backends.errors import OfflineError
    from backends.hub.resumable_download import fetch_metadata

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(OfflineError) as info:
        client.search(SearchQuery(text="chat"))
    assert "Offline mode is on" in str(info.value)
    with pytest.raises(OfflineError):
        client.model_card("acme/tiny-llama")
    with pytest.raises(OfflineError):
        fetch_metadata(client, "acme/tiny-llama", "config.json", "main")
    assert not hub.requests


def test_unreachable_hub_is_not_retried_and_token_stays_secret(
    hub: HubServer, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from backends.errors import AuthRequired, OfflineError

    caplog.set_level(logging.DEBUG)
    client = HubClient(f"http://127.0.0.1:{_free_port()}", GOOD_TOKEN, False, cache_dir=cache_dir)
    with pytest.raises(OfflineError) as info:
        client.search(SearchQuery(text="x"))
    with pytest.raises(OfflineError):
        client.whoami()
    assert "Can't reach the Hub" in str(info.value)
    assert not [r for r in caplog.records if "Retrying" in r.getMessage()]  # http_backoff's
    with pytest.raises(AuthRequired):
        HubClient(hub.endpoint, WRONG, False, cache_dir=cache_dir).model_card("acme/tiny-llama")
    assert GOOD_TOKEN not in caplog.text and WRONG not in caplog.text


def test_token_goes_only_to_the_endpoint_origin_in_huggingface_hub_calls(hub: HubServer) -> None:
    from huggingface_hub import get_session

    from backends.hub.transport import fail_fast

    other_origin = hub.endpoint.replace("127.0.0.1", "localhost")  # the fixture's "CDN" host
    with fail_fast(5.0, hub.endpoint):
        for base in (hub.endpoint, other_origin):
            get_session().get(f"{base}/api/whoami-v2", headers=_bearer(GOOD_TOKEN))
    own, foreign = [_lower(h) for _, p, h in hub.requests if p == "/api/whoami-v2"]
    assert own["authorization"] == f"Bearer {GOOD_TOKEN}"
    assert "authorization" not in foreign


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
