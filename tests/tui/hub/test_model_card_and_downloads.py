"""Model cards and the download queue on screen: quant fit marks, progress to 100 %,
pause/resume, cancel, and the token prompt for a gated repo (the token never on screen)."""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import try_to_load_from_cache
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, ProgressBar

from backends.device import DeviceMonitor
from backends.hub.client import HubClient
from backends.hub.download_queue import DownloadQueue
from backends.hub.token import app_token_file
from tests.fixtures.hub_server import GOOD_TOKEN, HubServer
from tests.tui.hub.conftest import (
    NOW,
    FixedMonitor,
    ScreenApp,
    TinyRamMonitor,
    settled,
    wait_until,
)
from tui.hub.download_row import DownloadRow
from tui.hub.downloads_panel import DownloadsPanel
from tui.hub.hub_screen import HubScreen
from tui.hub.model_card_screen import ModelCardScreen
from tui.hub.token_prompt import TokenPrompt

GGUF = "acme/tiny-chat-GGUF"
Q8 = "tiny-chat-Q8_0.gguf"


def hub_app(
    client_factory: Callable[[], HubClient],
    queue: DownloadQueue,
    monitor: DeviceMonitor | None = None,
) -> ScreenApp:
    return ScreenApp(
        lambda: HubScreen(client_factory, queue, monitor or FixedMonitor(), now=NOW, debounce=0)
    )


async def open_card(pilot: Pilot[None], search: str) -> ModelCardScreen:
    await settled(pilot)
    await pilot.press(*search, "enter")  # search, then the results get focus
    await settled(pilot)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ModelCardScreen), "card")
    screen = pilot.app.screen
    assert isinstance(screen, ModelCardScreen)
    await wait_until(pilot, lambda: screen.card is not None, "card loaded")
    await pilot.pause()
    return screen


def file_rows(screen: ModelCardScreen) -> dict[str, list[str]]:
    table = screen.query_one("#files", DataTable)
    return {
        str(key.value): [str(c) for c in table.get_row(key)]
        for key in (table.coordinate_to_cell_key((i, 0)).row_key for i in range(table.row_count))
    }


async def pick_quant(pilot: Pilot[None], screen: ModelCardScreen, label: str) -> None:
    table = screen.query_one("#files", DataTable)
    while table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value != label:
        await pilot.press("down")
    await pilot.press("d")


async def start_q8_download(pilot: Pilot[None], reached: threading.Event) -> None:
    """Pick Q8_0 on the card, go back to the results, and wait until its transfer is held."""
    screen = await open_card(pilot, "tiny-chat")
    await pick_quant(pilot, screen, "Q8_0")
    await pilot.press("escape")
    await wait_until(pilot, reached.is_set, "transfer half-way")


def panel_rows(app: ScreenApp) -> list[DownloadRow]:
    return list(app.screen.query(DownloadRow))


def screen_text(app: ScreenApp) -> str:
    return app.export_screenshot()


async def test_gguf_card_shows_quant_groups_with_sizes_and_fit(make_client, queue) -> None:
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_card(pilot, "tiny-chat")
        rows = file_rows(screen)
        assert list(rows) == ["IQ3_XXS", "Q4_K_M", "Q5_K_M", "Q8_0", "F16"]
        assert rows["Q4_K_M"][:4] == ["Q4_K_M", "1 file", "300 KB", "+120 KB"]
        assert rows["F16"][1:3] == ["2 parts", "980 KB"]
        assert all(r[5] == "✓ fits GPU" for r in rows.values())
        assert rows["Q8_0"][4].endswith("MB")  # file + mmproj + context estimate
        assert rows["Q4_K_M"][6] == ""  # nothing on disk yet
        text = screen_text(app)
        assert "free now: VRAM 6.0 GB, RAM 10.0 GB" in text.replace("&#160;", " ")
        assert "Quantized tiny model." in text.replace("&#160;", " ")


async def test_fit_marks_follow_free_memory(make_client, queue) -> None:
    app = hub_app(make_client, queue, TinyRamMonitor())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_card(pilot, "tiny-chat")
        rows = file_rows(screen)
        assert rows["IQ3_XXS"][5] == "✓ fits RAM"  # ~84 MB needed, 100 MB free, no GPU
        assert {r[5] for r in rows.values()} <= {"✓ fits RAM", "✗ too big"}


async def test_choosing_a_quant_downloads_it_to_100_percent(make_client, queue, cache_dir) -> None:
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_card(pilot, "tiny-chat")
        await pick_quant(pilot, screen, "Q4_K_M")
        await pilot.press("escape")
        await wait_until(pilot, lambda: bool(app.finished), "DownloadFinished")
        await pilot.pause()
        (row,) = panel_rows(app)
        total = row.query_one("#total-bar", ProgressBar)
        assert total.percentage == 1.0
        assert "done" in str(row.query_one(".headline").render())
        finished = app.finished[0]
        assert finished.repo_id == GGUF
        assert set(finished.files) == {"tiny-chat-Q4_K_M.gguf", "mmproj-tiny-chat-f16.gguf"}
        found = try_to_load_from_cache(GGUF, "tiny-chat-Q4_K_M.gguf", cache_dir=cache_dir)
        assert isinstance(found, str) and Path(found).stat().st_size == 300_000
        assert try_to_load_from_cache(GGUF, Q8, cache_dir=cache_dir) is None  # one quant only
        await pilot.press("enter")  # the card again: the quant is marked as downloaded
        card = app.screen
        assert isinstance(card, ModelCardScreen)
        await wait_until(pilot, lambda: card.card is not None, "card")
        rows = file_rows(card)
        assert rows["Q4_K_M"][6] == "✓ on disk" and rows["Q8_0"][6] == ""


async def test_space_marks_quants_on_a_gguf_card_and_d_downloads_the_marked(
    make_client, queue
) -> None:
    """The README's "Space picks files" did nothing on a GGUF card."""
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_card(pilot, "tiny-chat")
        table = screen.query_one("#files", DataTable)
        for label in ("Q4_K_M", "Q8_0"):
            while table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value != label:
                await pilot.press("down")
            await pilot.press("space")
        rows = file_rows(screen)
        assert rows["Q4_K_M"][0] == "✓ Q4_K_M" and rows["Q8_0"][0] == "✓ Q8_0"
        assert rows["Q5_K_M"][0] == "Q5_K_M"
        await pilot.press("d")
        (job,) = queue.jobs()
        assert {f.path for f in job.files} == {
            "tiny-chat-Q4_K_M.gguf",
            "tiny-chat-Q8_0.gguf",
            "mmproj-tiny-chat-f16.gguf",
        }


async def test_the_open_card_marks_a_quant_on_disk_when_its_download_finishes(
    make_client, queue
) -> None:
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_card(pilot, "tiny-chat")
        assert file_rows(screen)["Q4_K_M"][6] == ""
        await pick_quant(pilot, screen, "Q4_K_M")  # and stay on the card
        await wait_until(
            pilot, lambda: file_rows(screen)["Q4_K_M"][6] == "✓ on disk", "on disk mark"
        )
        assert app.screen is screen and file_rows(screen)["Q8_0"][6] == ""


async def test_pause_then_resume_completes(make_client, queue, hub: HubServer, cache_dir) -> None:
    reached, release = hub.hold_at(Q8, 0.5)
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_q8_download(pilot, reached)
        await pilot.press("alt+d", "p")  # focus Downloads, pause the highlighted job
        release.set()
        await wait_until(pilot, lambda: panel_rows(app)[0].job.state == "paused", "paused")
        job = panel_rows(app)[0].job
        assert 0 < job.done_bytes < job.total_bytes
        assert "paused" in str(panel_rows(app)[0].query_one(".headline").render())
        await pilot.press("p")
        await wait_until(pilot, lambda: bool(app.finished), "finished")
        found = try_to_load_from_cache(GGUF, Q8, cache_dir=cache_dir)
        assert isinstance(found, str)
        assert Path(found).read_bytes() == hub.repos[GGUF].files[Q8]


async def test_cancel_leaves_no_file(make_client, queue, hub: HubServer, cache_dir) -> None:
    reached, release = hub.hold_at(Q8, 0.5)
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_q8_download(pilot, reached)
        await pilot.press("alt+d", "x")
        release.set()
        await wait_until(pilot, lambda: panel_rows(app)[0].job.state == "cancelled", "cancel")
        assert "cancelled" in str(panel_rows(app)[0].query_one(".headline").render())
        assert try_to_load_from_cache(GGUF, Q8, cache_dir=cache_dir) is None
        assert not list(cache_dir.rglob("blobs/*.gguf")) and not list(
            p for p in cache_dir.rglob("blobs/*") if p.stat().st_size >= 260_000
        )
        assert not app.finished


async def test_gated_repo_asks_for_a_token_and_never_shows_it(
    make_client, queue, cache_dir
) -> None:
    app = hub_app(make_client, queue)
    async with app.run_test(size=(120, 40)) as pilot:
        card = await open_card(pilot, "gated")
        assert "gated: needs access" in str(card.query_one("#card-meta").render())
        await pilot.press("d")  # the whole repo
        await wait_until(pilot, lambda: isinstance(app.screen, TokenPrompt), "token prompt")
        await pilot.pause()
        text = screen_text(app).replace("&#160;", " ")
        assert "acme/gated-llama needs access" in text
        assert "https://huggingface.co/acme/gated-llama" in text
        await pilot.press(*"hf_notAtoken", "enter")  # the Hub rejects it: not saved
        await wait_until(
            pilot,
            lambda: "rejected" in str(app.screen.query_one("#token-error").render()),
            "rejection shown",
        )
        assert not app_token_file().exists()
        field = app.screen.query_one(Input)
        field.value = ""
        await pilot.press(*GOOD_TOKEN)
        await pilot.pause()
        typed = screen_text(app)
        assert app.screen.query_one(Input).password
        assert GOOD_TOKEN not in typed and "goodTOKEN" not in typed
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.finished), "gated download finished")
        assert app.finished[0].repo_id == "acme/gated-llama"
        assert try_to_load_from_cache("acme/gated-llama", "model.safetensors", cache_dir=cache_dir)
        assert stat.S_IMODE(app_token_file().stat().st_mode) == 0o600
        assert "goodTOKEN" not in screen_text(app)
        notices = " ".join(str(n.message) for n in app._notifications)
        assert "goodTOKEN" not in notices


async def test_private_repo_card_prompts_then_loads(make_client, queue) -> None:
    app = ScreenApp(lambda: HubScreen(make_client, queue, None, now=NOW, debounce=0))
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        hub_screen = app.screen
        assert isinstance(hub_screen, HubScreen)
        app.push_screen(ModelCardScreen(hub_screen.session, "acme/secret-model"))
        await wait_until(pilot, lambda: isinstance(app.screen, TokenPrompt), "token prompt")
        await wait_until(
            pilot,
            lambda: "acme/secret-model needs access" in screen_text(app).replace("&#160;", " "),
            "the prompt's words drawn",
        )
        await pilot.press(*GOOD_TOKEN, "enter")
        card = app.screen
        assert isinstance(card, ModelCardScreen)
        await wait_until(pilot, lambda: card.card is not None, "card with token")
        # The card is fetched before it is drawn: on a busy machine a frame comes later.
        await wait_until(pilot, lambda: "Secret" in screen_text(app), "the card drawn")


def test_snapshot_gguf_card(snap_compare, make_client, queue) -> None:  # type: ignore[no-untyped-def]
    """120x40: acme/tiny-chat-GGUF card — "vision chat · gguf · apache-2.0 · ↓ 5.0k · ♥ 40 ·
    updated 3 mo ago · runs with llama.cpp", five quant rows IQ3_XXS..F16 with sizes, +120 KB
    mmproj, an estimate and "✓ fits GPU", the estimate note, and the README "Tiny Chat GGUF";
    the footer has "r Run" (the model runs here once downloaded)."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        pilot.app.screen.query_one(Input).cursor_blink = False
        await open_card(pilot, "tiny-chat")
        await pilot.pause()

    app = hub_app(make_client, queue)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


async def test_downloads_panel_posts_finished_once(make_client, queue) -> None:
    app = hub_app(make_client, queue)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        job = queue.add(GGUF, allow_patterns=["tiny-chat-IQ3_XXS.gguf"])
        await wait_until(pilot, lambda: bool(app.finished), "finished")
        app.screen.query_one(DownloadsPanel).poll()
        await pilot.pause()
        assert len(app.finished) == 1
        assert queue.job(job).state == "done"
