"""The background prober: never blocks, marks a down server, retries it, sees it come back."""

from __future__ import annotations

import threading

from backends.remote.probe import ServerCapabilities
from backends.remote.prober import ServerProber, retry_delay
from tests.fixtures.a1111_server import A1111TestServer
from tests.fixtures.openai_media_server import OpenAIMediaServer


def test_retry_backs_off_and_caps() -> None:
    assert [retry_delay(n, 5, 60) for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 40, 60]


def test_a_down_server_is_marked_and_retried_until_it_answers(
    media_server: OpenAIMediaServer, a1111_server: A1111TestServer
) -> None:
    down = a1111_server.server_config()
    a1111_server.close()  # nothing listens there now
    results: list[ServerCapabilities] = []
    came_back = threading.Event()
    # The "retry" points the down server's name at the live one on its second try.
    tries: dict[str, int] = {}

    from backends.remote.probe import probe_server

    def probe(server):  # noqa: ANN001, ANN202
        tries[server.name] = tries.get(server.name, 0) + 1
        if server.name == down.name and tries[server.name] >= 2:
            return probe_server(media_server.server_config(name=down.name))
        return probe_server(server, 1.0)

    prober = ServerProber([down, media_server.server_config()], probe=probe, retry_s=0.01)

    def heard(result: ServerCapabilities) -> None:
        results.append(result)
        if result.server.name == down.name and result.up:
            came_back.set()

    prober.add_listener(heard)
    prober.start()  # returns at once: the probes run in their own threads
    assert prober.wait_until_probed(10)
    assert came_back.wait(10)
    prober.stop()
    first_down = next(r for r in results if r.server.name == down.name)
    assert not first_down.up and "Cannot reach" in first_down.error.message  # type: ignore[union-attr]
    assert prober.snapshot()["lab"].up
