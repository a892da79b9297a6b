"""The Models screen against the local Hub: search as you type, filters, lazy pages, offline."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from backends.hub.client import HubClient
from backends.hub.download_queue import DownloadQueue
from backends.hub.models import ModelPage, SearchQuery
from tests.tui.hub.conftest import NOW, FixedMonitor, ScreenApp, settled, wait_until
from tui.hub.hub_screen import HubScreen
from tui.hub.model_results import ModelResults


def hub_app(
    client_factory: Callable[[], HubClient], queue: DownloadQueue, **kw: object
) -> ScreenApp:
    kw.setdefault("debounce", 0)
    kw.setdefault("now", NOW)
    return ScreenApp(lambda: HubScreen(client_factory, queue, FixedMonitor(), **kw))  # type: ignore[arg-type]


def rows(app: ScreenApp) -> list[str]:
    table = app.screen.query_one(ModelResults)
    keys = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
    if table.mode == "local":
        return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    return [str(k) for k in keys]


def status(app: ScreenApp) -> str:
    return str(app.screen.query_one("#hub-status", Static).render())


async def test_typing_a_search_shows_matching_rows(make_client, queue) -> None:
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        assert "acme/tiny-llama" in rows(app)
        await pilot.press(*"tiny")
        await settled(pilot)
        assert rows(app) == ["acme/tiny-llama", "acme/tiny-chat-GGUF", "other/tiny-sd"]
        table = app.screen.query_one(ModelResults)
        first = [str(c) for c in table.get_row_at(0)]
        assert first == ["acme/tiny-llama", "text gen", "9.0k", "10", "4 mo ago", "transformers"]
        assert status(app) == "3 models"


async def test_gated_marker_and_filters_narrow_results(make_client, queue) -> None:
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"acme")
        await settled(pilot)
        assert set(rows(app)) == {"acme/tiny-llama", "acme/tiny-chat-GGUF", "acme/gated-llama"}
        table = app.screen.query_one(ModelResults)
        assert str(table.get_row("acme/gated-llama")[0]) == "acme/gated-llama gated"
        assert str(table.get_row("acme/tiny-llama")[0]) == "acme/tiny-llama"
        app.screen.query_one("#filter-library", Select).value = "gguf"
        await settled(pilot)
        assert rows(app) == ["acme/tiny-chat-GGUF"]
        app.screen.query_one("#filter-library", Select).clear()
        app.screen.query_one("#filter-task", Select).value = "text-generation"
        await settled(pilot)
        assert set(rows(app)) == {"acme/tiny-llama", "acme/gated-llama"}


async def test_sort_key_reorders(make_client, queue) -> None:
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"tiny")
        await settled(pilot)
        app.screen.query_one(ModelResults).focus()
        await pilot.press("alt+s")  # most likes
        await settled(pilot)
        assert rows(app) == ["other/tiny-sd", "acme/tiny-chat-GGUF", "acme/tiny-llama"]


async def test_letters_in_the_results_go_to_the_search_box(make_client, queue) -> None:
    """Typing while the results have focus starts a new search (t, l, r, s used to switch
    filters; then the letters were appended to the old query)."""
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"tiny")
        await settled(pilot)
        app.screen.query_one(ModelResults).focus()
        await pilot.press(*"tiny-sd")
        await settled(pilot)
        search = app.screen.query_one("#search", Input)
        assert search.value == "tiny-sd" and search.has_focus  # not "tinytiny-sd"
        assert rows(app) == ["other/tiny-sd"]
        assert app.screen.query_one("#filter-sort", Select).value == "downloads"
        await pilot.press("down", "s", "t", "r", "l")
        await settled(pilot)
        assert search.value == "strl"
        assert app.screen.query_one("#filter-task", Select).value == Select.NULL
        assert app.screen.query_one("#filter-library", Select).value == Select.NULL
        await pilot.press("alt+s")  # the filter keys work from the search box, typing nothing
        await settled(pilot)
        assert search.value == "strl"
        assert app.screen.query_one("#filter-sort", Select).value == "likes"


async def test_down_from_the_search_box_lands_on_the_first_result(make_client, queue) -> None:
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"tiny")
        await settled(pilot)
        await pilot.press("down")
        await pilot.pause()
        table = app.screen.query_one(ModelResults)
        assert table.has_focus
        assert table.cursor_row == 0
        assert table.selected_key() == "acme/tiny-llama"


async def test_scrolling_to_the_end_loads_the_next_page(make_client, queue) -> None:
    app = hub_app(make_client, queue, page_size=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"bulk")
        await settled(pilot)
        # Page one (10 rows) does not fill the 16-row table, so page two follows; then it stops.
        table = app.screen.query_one(ModelResults)
        first = table.row_count
        assert first == 20
        assert status(app) == "20 models · more load as you scroll"
        table.focus()
        for _ in range(first):
            await pilot.press("down")
        await settled(pilot)
        assert table.row_count == 25
        assert rows(app)[-1] == "bulk/chat-00"
        assert len(set(rows(app))) == 25
        assert status(app) == "25 models"


async def test_stale_pages_are_ignored(make_client, queue) -> None:
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"tiny-sd")
        await settled(pilot)
        assert rows(app) == ["other/tiny-sd"]
        screen = app.screen
        assert isinstance(screen, HubScreen)
        stale = make_client().search(SearchQuery(text="bulk"))
        screen.post_message(HubScreen.PageLoaded(stale, append=False))
        await pilot.pause()
        assert rows(app) == ["other/tiny-sd"]
        assert isinstance(stale, ModelPage)


async def _download_first_quant(make_client, queue: DownloadQueue) -> None:
    job = queue.add("acme/tiny-chat-GGUF", allow_patterns=["tiny-chat-IQ3_XXS.gguf"])
    assert queue.wait(job, ["done", "failed"]).state == "done"
    queue.remove(job)


async def test_offline_setting_shows_one_line_and_cached_models(make_client, queue) -> None:
    await _download_first_quant(make_client, queue)
    app = hub_app(lambda: make_client(offline=True), queue)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        text = status(app)
        assert text == "Offline mode is on — showing the 1 model already on disk."
        assert "\n" not in text
        assert rows(app) == ["acme/tiny-chat-GGUF"]
        assert str(app.screen.query_one(ModelResults).get_row_at(0)[1]) == "llama.cpp"
        await pilot.press("ctrl+r")  # says how to turn offline mode off: no Settings screen
        notice = " ".join(str(n.message) for n in app._notifications)
        assert "Settings" not in notice
        assert "offline = false in" in notice and "config.toml" in notice


async def test_unreachable_hub_falls_back_at_once(make_client, queue) -> None:
    await _download_first_quant(make_client, queue)
    app = hub_app(lambda: make_client(endpoint="http://127.0.0.1:9"), queue)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        await settled(pilot)
        assert status(app) == "The Hub is not reachable — showing the 1 model already on disk."
        assert rows(app) == ["acme/tiny-chat-GGUF"]
        await pilot.press(*"x")  # typing offline does not start network requests
        await settled(pilot)
        assert rows(app) == ["acme/tiny-chat-GGUF"]


def test_snapshot_models_screen_with_results(snap_compare, make_client, queue) -> None:  # type: ignore[no-untyped-def]
    """120x40: search "a" → "28 models", acme/tiny-llama (9.0k downloads) highlighted first, then
    acme/tiny-chat-GGUF and the bulk models, acme/gated-llama with a bold "gated" marker, dates
    relative to 2026-06-01 ("3 mo ago"), the filter row "Any task · Any library · Most
    downloads · Runs here", and the footer keys / ⌥t ⌥l ⌥r ⌥s ⌥d (alt)."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.press("a")
        await settled(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(hub_app(make_client, queue), terminal_size=(120, 40), run_before=run_before)


async def test_typing_is_debounced_into_one_request(make_client, queue, hub) -> None:
    app = hub_app(make_client, queue, debounce=0.5)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        before = sum(1 for _, p, _ in hub.requests if p == "/api/models")
        await pilot.press(*"tiny-sd")
        await wait_until(pilot, lambda: rows(app) == ["other/tiny-sd"], "debounced result")
        sent = sum(1 for _, p, _ in hub.requests if p == "/api/models") - before
        # Seven keys, far fewer searches (one, unless the machine stalls between keys).
        assert 1 <= sent <= 3


async def test_filter_keys_cycle_back_to_any(make_client, queue) -> None:
    """alt+t / alt+l step through every task and library and wrap to 'Any' (it used to crash)."""
    from backends.hub.models import TASKS
    from tui.hub.hub_screen import LIBRARIES

    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        app.screen.query_one(ModelResults).focus()
        library = app.screen.query_one("#filter-library", Select)
        seen = []
        for _ in range(len(LIBRARIES) + 1):
            await pilot.press("alt+l")
            await settled(pilot)
            seen.append(library.value)
        assert seen == [*LIBRARIES, Select.NULL]
        assert "Any library" in str(library.query_one("#label", Static).render())
        task = app.screen.query_one("#filter-task", Select)
        for _ in range(len(TASKS) + 1):
            await pilot.press("alt+t")
        await settled(pilot)
        assert task.value == Select.NULL
        assert "acme/tiny-llama" in rows(app)  # all models again


async def test_the_command_palette_has_the_hubs_filters_sort_and_downloads(
    make_client, queue
) -> None:
    """The README says every action is in the palette: the Hub's were not."""
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"tiny")
        await settled(pilot)
        screen = app.screen
        assert isinstance(screen, HubScreen)
        commands = {c.title: c for c in screen.palette_commands()}
        for title, key in (
            ("Filter by task", "alt+t"),
            ("Filter by library", "alt+l"),
            ("Only models that run here", "alt+r"),
            ("Sort results", "alt+s"),
            ("Show downloads", "alt+d"),
            ("Pause or resume download", "p"),
            ("Cancel download", "x"),
            ("Remove download from the list", "del"),
        ):
            assert commands[title].help.endswith(f"({key})"), (title, commands[title].help)
        await commands["Sort results"].callback()  # type: ignore[misc]
        await settled(pilot)
        assert screen.query_one("#filter-sort", Select).value == "likes"
        await commands["Filter by task"].callback()  # type: ignore[misc]
        await settled(pilot)
        assert screen.query_one("#filter-task", Select).value != Select.NULL


async def test_results_widen_with_the_terminal(make_client, queue) -> None:
    """Names cut for 80 columns stayed cut (and headers short) after the terminal widened."""
    app = hub_app(make_client, queue)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.press(*"tiny")
        await settled(pilot)
        table = app.screen.query_one(ModelResults)
        assert table.mode == "hub-narrow"
        await pilot.resize_terminal(160, 40)
        await settled(pilot)
        assert table.mode == "hub"
        assert [str(c.label) for c in table.columns.values()][2] == "Downloads"
        assert rows(app) and all(table.get_row(key)[0].plain == key for key in rows(app))


async def test_the_downloads_cursor_starts_on_a_download_p_and_x_act_on(make_client, queue) -> None:
    """alt+d put the cursor on a finished row, where x (cancel) did nothing."""
    from tui.hub.downloads_panel import DownloadsPanel

    done = queue.add("acme/tiny-llama")
    assert queue.wait(done, ["done", "failed"]).state == "done"
    waiting = queue.add("acme/tiny-chat-GGUF", allow_patterns=["tiny-chat-Q8_0.gguf"])
    queue.pause(waiting)
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        panel = app.screen.query_one(DownloadsPanel)
        await wait_until(pilot, lambda: len(panel.jobs) == 2, "both downloads listed")
        await pilot.press("alt+d")
        await pilot.pause()
        assert panel._selected().job_id == waiting  # type: ignore[union-attr]
        await pilot.press("x")
        await wait_until(pilot, lambda: queue.job(waiting).state == "cancelled", "cancelled")


async def test_the_task_filter_finds_voices_and_task_models(make_client, queue, hub) -> None:
    """text-to-audio was not among the tasks, and a Kokoro voice or a NER model read "—"
    under Runs with (and "runs here" dropped them) though the app runs both."""
    from tests.fixtures.hub_repos import FakeRepo

    voices = [
        FakeRepo(
            "acme/kokoro-voice",
            {"kokoro-v1.0.onnx": b"o" * 10, "voices-v1.0.bin": b"v"},
            pipeline_tag="text-to-speech",
            library_name="onnx",
            tags=["onnx", "kokoro", "text-to-speech"],
        ),  # fmt: skip
        FakeRepo(
            "acme/audio-gen",
            {"config.json": b"{}", "model.safetensors": b"x"},
            pipeline_tag="text-to-audio",
            library_name="transformers",
            tags=["transformers", "safetensors", "text-to-audio"],
        ),  # fmt: skip
        FakeRepo(
            "acme/bert-ner",
            {"config.json": b"{}", "model.safetensors": b"x"},
            pipeline_tag="token-classification",
            library_name="transformers",
            tags=["transformers", "safetensors", "token-classification"],
        ),  # fmt: skip
    ]
    for repo in voices:
        hub.add_repo(repo)
    try:
        app = hub_app(make_client, queue)
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot)
            task = app.screen.query_one("#filter-task", Select)
            table = app.screen.query_one(ModelResults)
            task.value = "text-to-speech"
            await settled(pilot)
            assert rows(app) == ["acme/kokoro-voice"]
            row = [str(c) for c in table.get_row_at(0)]
            assert (row[1], row[-1]) == ("text→speech", "Kokoro")
            task.value = "text-to-audio"
            await settled(pilot)
            assert rows(app) == ["acme/audio-gen"]
            assert str(table.get_row_at(0)[-1]) == "—"  # no engine here makes audio from it
            task.value = "token-classification"
            app.screen.query_one("#filter-runs").value = True  # type: ignore[attr-defined]
            await settled(pilot)
            assert rows(app) == ["acme/bert-ner"]
            assert str(table.get_row_at(0)[-1]) == "Tasks"
    finally:
        for repo in voices:
            hub.repos.pop(repo.repo_id, None)
