"""Starting the app stays light: no ML runtime imported; the CLI flags behave."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tui import __version__
from tui.app import LocalAIApp
from tui.cli import main

ROOT = Path(__file__).parents[2]

STARTUP = """
import asyncio, json, sys
import backends.models.catalog
backends.models.catalog.demo_spec = lambda: None  # no model to load: only the app itself starts
from backends.settings import load_settings
from tui.app import LocalAIApp

async def run():
    app = LocalAIApp(load_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = app.screen.query_one("#status").text
        await pilot.press("ctrl+o")  # the picker scans the HF cache and folders
        await pilot.pause(0.5)
        await pilot.press("f1")
        await pilot.pause()
    heavy = [m for m in ("torch", "transformers", "llama_cpp", "diffusers") if m in sys.modules]
    print(json.dumps({"heavy": heavy, "status": shown}))

asyncio.run(run())
"""


def test_starting_the_app_imports_no_ml_runtime(tmp_path: Path) -> None:
    env = {**os.environ, "LOCALAI_TUI_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", STARTUP],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert "no model loaded" in result["status"]


BUILD_THE_APP = """
import json, sys
from backends.settings import load_settings
from tui.app import LocalAIApp
import tui.chat.chat_screen

LocalAIApp(load_settings())
print(json.dumps(sorted(sys.modules)))
"""


def test_building_the_app_leaves_speech_and_engine_hosts_unimported(tmp_path: Path) -> None:
    """What the first frame does not use loads when first used: each module costs the first
    frame ~1 ms of CPU (bench/startup.py), the speech and task stacks and `multiprocessing`
    several.
    The device gauge and a model load import the engine hosts after the first frame."""
    env = {**os.environ, "LOCALAI_TUI_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", BUILD_THE_APP],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    early = ("backends.speech", "backends.host", "backends.tasks", "multiprocessing")
    assert [m for m in modules if m.startswith(early)] == []


FIRST_FRAME_MODULES = """
import json, os, sys
from backends.settings import load_settings
from tui.app import LocalAIApp
from tui.chat.chat_screen import ChatScreen

class App(LocalAIApp):
    def _display(self, screen, renderable):
        # The chat's first frame, as a real terminal would get it (headless: nowhere); what
        # comes after it (the startup model's load) is not looked at.
        if renderable is not None and not self._batch_count and isinstance(screen, ChatScreen):
            print(json.dumps(sorted(sys.modules)), flush=True)
            os._exit(0)
        super()._display(screen, renderable)

App(load_settings()).run(headless=True, size=(120, 40))
"""


def test_the_first_frame_leaves_what_it_does_not_show_unimported(tmp_path: Path) -> None:
    """What the first frame of the chat neither shows nor needs is imported later, when
    used: the load progress bar, the F9 dialog, its path input and image checks, the
    engines' dataclasses (backends.base: ~9 ms to define; the settings, the model manager
    and the chat take it when they make a spec), and (as for building the app) the engine
    hosts, speech and tasks."""
    env = {**os.environ, "LOCALAI_TUI_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_MODULES],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    modules = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "tui.chat.chat_screen" in modules and "textual.widgets._text_area" in modules
    later = {
        "backends.base",
        "textual.widgets._progress_bar",
        "tui.chat.attach_dialog",
        "tui.widgets.path_input",
        "backends.store.attachments",
        "backends.store.answer_versions",
        "backends.store.export",
        "backends.store.tool_switches",
        "backends.host.spawn",
        "backends.speech",
        "backends.tasks",
        "multiprocessing",
        "torch",
        "llama_cpp",
    }
    assert sorted(modules & later) == []


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"localai-tui {__version__}"


def test_an_unknown_model_fails_before_the_ui_with_a_hint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["--model", str(tmp_path / "nope.gguf")]) == 2
    err = capsys.readouterr().err
    assert "Model not found" in err and "nope.gguf" in err


def test_engine_without_model_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--engine", "openai"])
    assert exit_info.value.code == 2
    assert "--engine goes with --model" in capsys.readouterr().err


def test_invalid_config_is_reported_not_a_traceback(tmp_path: Path) -> None:
    """`localai-tui --config bad.toml` as a user starts it: every bad field is named with its
    value (and the variable, for one set in the environment), then the program exits."""
    config = tmp_path / "bad.toml"
    config.write_text("theme = 3\n[sampling]\ntemperature = 'hot'\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOCALAI_TUI_SPEECH__BEAM_SIZE": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "tui", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "localai-tui: the settings are invalid (fix them and start again).",
        f"3 problems in {config}:",
        "  sampling.temperature = 'hot': expected a number",
        "  theme = 3: expected text in quotes",
        "  speech.beam_size = '0': expected a whole number >= 1 "
        "(set by LOCALAI_TUI_SPEECH__BEAM_SIZE)",
    ]
    assert result.stdout == ""


def test_a_config_path_that_does_not_exist_is_named_not_ignored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A mistyped --config started silently on the defaults."""
    missing = tmp_path / "confg.toml"
    assert main(["--config", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"there is no settings file at {missing}" in err


def test_a_damaged_history_database_is_explained_before_the_ui(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from backends.paths import data_dir

    (data_dir() / "conversations.sqlite3").write_bytes(b"this is not a database" * 100)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and "Move it aside" in err


HOSTED_SESSION = """
import asyncio, json, sys
from backends.base import ModelSpec
from backends.settings import load_settings
from tui.app import LocalAIApp
from tui.chat.prompt_input import PromptInput
from tui.chat.message_view import MessageView

GGUF, LLAMA = sys.argv[1], sys.argv[2]
gguf = ModelSpec(key="gguf:" + GGUF, name="tiny gguf", engine="llama_cpp", path=GGUF)
llama = ModelSpec(key="path:" + LLAMA, name="tiny llama", engine="transformers", path=LLAMA)

async def until(pilot, condition):
    for _ in range(6000):
        if condition():
            return
        await pilot.pause(0.01)
    raise SystemExit("timed out")

async def run():
    app = LocalAIApp(load_settings(), startup_model=gguf)
    answers = []
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        for spec in (gguf, llama):
            if spec is llama:
                screen.load_model(spec)
            loaded = lambda: app.manager.spec is spec and screen.status.text.endswith("ready")
            await until(pilot, loaded)
            app.query_one(PromptInput).focus()
            await pilot.press(*"hi", "enter")
            await pilot.pause(0.1)
            await until(pilot, lambda: not screen.generating)
            answers.append(app.query(MessageView).last().content)
        hosts = app.manager.engine.host.pid is not None
        app.manager.unload()
    heavy = [m for m in ("torch", "transformers", "llama_cpp", "diffusers", "ctranslate2")
             if m in sys.modules]
    print(json.dumps({"heavy": heavy, "answers": answers, "hosted": hosts}))

asyncio.run(run())
"""


@pytest.mark.slow
def test_a_chat_a_switch_and_an_unload_import_no_ml_runtime_in_the_app(
    tmp_path: Path, tiny_gguf_path: Path, tiny_llama_dir: Path
) -> None:
    """Engines run in host processes: the app itself never imports a runtime."""
    env = {
        **os.environ,
        "LOCALAI_TUI_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        # Short answers: both turns must fit the tiny llama's 512-token window.
        "LOCALAI_TUI_SAMPLING__MAX_NEW_TOKENS": "32",
    }
    out = subprocess.run(
        [sys.executable, "-c", HOSTED_SESSION, str(tiny_gguf_path), str(tiny_llama_dir)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert result["hosted"] is True
    assert len(result["answers"]) == 2 and all(a.strip() for a in result["answers"])


async def test_the_chat_finishes_starting_after_the_first_frame(
    make_app: Callable[..., LocalAIApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gauge, the server boxes and the params panel (~100 ms) wait for the first frame:
    as a mode's screen the chat mounts inside the batch Textual holds until that frame, and
    work queued after its first refresh ran before anything was drawn."""
    from tui.chat.chat_screen import ChatScreen

    order: list[str] = []
    finish = ChatScreen._finish_startup
    ready = LocalAIApp.on_ready

    async def finish_startup(self: ChatScreen) -> None:
        order.append("finish startup")
        await finish(self)

    def on_ready(self: LocalAIApp) -> None:
        order.append("first frame")
        ready(self)

    monkeypatch.setattr(ChatScreen, "_finish_startup", finish_startup)
    monkeypatch.setattr(LocalAIApp, "on_ready", on_ready)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.query("#params")  # the panel did mount
    assert order == ["first frame", "finish startup"]


async def test_the_spare_engine_host_starts_after_the_first_frame_before_the_model_load(
    make_app: Callable[..., LocalAIApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`localai-tui` starts its spare engine host (`after_first_frame`) once the first frame
    is drawn: started before, the child's Python start-up competed with that frame for the
    CPU; started after the startup model load began, the load would spawn a host itself."""
    from tui.chat.chat_screen import ChatScreen

    order: list[str] = []
    finish = ChatScreen._finish_startup
    ready = LocalAIApp.on_ready

    async def finish_startup(self: ChatScreen) -> None:
        order.append("finish startup")
        await finish(self)

    def on_ready(self: LocalAIApp) -> None:
        order.append("first frame")
        ready(self)

    monkeypatch.setattr(ChatScreen, "_finish_startup", finish_startup)
    monkeypatch.setattr(LocalAIApp, "on_ready", on_ready)
    app = make_app(after_first_frame=lambda: order.append("spare host"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
    assert order == ["first frame", "spare host", "finish startup"]


async def test_the_first_frame_is_drawn_before_the_work_that_waits_for_it(
    make_app: Callable[..., LocalAIApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`after_first_frame` (the spare engine host) and the chat's deferred mounts come after
    a frame of the chat reached the terminal. As a mode Textual knew, the chat was built
    inside the batch Textual holds until start-up ends: Ready (and all that waits for it)
    came before any frame, and the footer composed three times before the first."""
    from textual.widgets import Footer

    from tui.chat.chat_screen import ChatScreen

    order: list[str] = []
    display = LocalAIApp._display
    recompose = Footer.recompose

    def displayed(self: LocalAIApp, screen: object, renderable: object) -> None:
        # What Textual writes to a real terminal (a headless app writes it nowhere).
        if renderable is not None and not self._batch_count and isinstance(screen, ChatScreen):
            if "frame" not in order:
                order.append("frame")
        display(self, screen, renderable)  # type: ignore[arg-type]

    async def footer_composed(self: Footer) -> None:
        order.append("footer")
        await recompose(self)

    monkeypatch.setattr(LocalAIApp, "_display", displayed)
    monkeypatch.setattr(Footer, "recompose", footer_composed)
    app = make_app(after_first_frame=lambda: order.append("spare host"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.query("#params")  # the deferred mounts did happen
    assert order.index("frame") < order.index("spare host")
    assert order[: order.index("frame")].count("footer") <= 1


async def test_the_objects_of_the_start_up_are_frozen_out_of_the_collector(
    make_app: Callable[..., LocalAIApp],
) -> None:
    """After the first frame the start-up's objects leave the garbage collector's
    generations, so full collections during a reopen or an answer stay short."""
    import gc

    gc.unfreeze()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.query("#params")
        assert gc.get_freeze_count() > 10_000


async def test_the_theme_of_the_settings_is_on_the_first_frame(
    make_app: Callable[..., LocalAIApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `theme` in the settings colours the very first frame, and Textual parses the
    stylesheets once: set once the app was running, it re-parsed all of them and restyled
    every widget before that frame (30-45 ms of each start for everyone with a theme)."""
    from textual.css.stylesheet import Stylesheet

    from backends.settings import Settings
    from tui.chat.chat_screen import ChatScreen

    seen: list[tuple[str, str]] = []
    reparses: list[str] = []
    display = LocalAIApp._display
    reparse = Stylesheet.reparse

    def displayed(self: LocalAIApp, screen: object, renderable: object) -> None:
        if renderable is not None and not self._batch_count and isinstance(screen, ChatScreen):
            if not seen:  # the first frame a real terminal would get
                prompt = screen.query_one("#prompt")
                background = prompt.styles.background
                seen.append((self.theme, background.hex, background.brightness > 0.5))
        display(self, screen, renderable)  # type: ignore[arg-type]

    def reparsed(self: Stylesheet) -> None:
        reparses.append("reparse")
        reparse(self)

    monkeypatch.setattr(LocalAIApp, "_display", displayed)
    monkeypatch.setattr(Stylesheet, "reparse", reparsed)
    app = make_app(settings=Settings(theme="textual-light"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        after = app.screen.query_one("#prompt").styles.background.hex
    assert seen == [("textual-light", after, True)]  # light, and as it stays
    assert reparses == []


async def test_the_first_frame_is_styled_as_the_chat_stays(
    make_app: Callable[..., LocalAIApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chat is styled once, as it mounts, and the first frame shows it as it stays (the
    prompt focused, its border lit): Textual's restyle of the whole screen as it resumes
    (~20M instructions) is skipped for the first, and the prompt is the screen's first focus
    (focused after the message list, both were restyled)."""
    from textual.css.stylesheet import Stylesheet
    from textual.widget import Widget

    from tui.chat.chat_screen import ChatScreen

    def looks(widgets: list[Widget]) -> list[tuple[str, object, object, object, bool]]:
        return [
            (repr(w), w.styles.border, w.styles.background, w.styles.color, w.has_focus)
            for w in widgets
        ]

    first: list[Widget] = []
    parsed: set[str] = set()  # the .tcss files of the first frame
    seen: list[list[tuple[str, object, object, object, bool]]] = []
    styled: list[str] = []
    display = LocalAIApp._display
    apply = Stylesheet.apply

    def displayed(self: LocalAIApp, screen: object, renderable: object) -> None:
        if renderable is not None and not self._batch_count and isinstance(screen, ChatScreen):
            if not seen:
                first.extend(screen.query("*"))
                seen.append(looks(first))
                parsed.update(Path(path).name for path, _ in self.stylesheet.source if path)
        display(self, screen, renderable)  # type: ignore[arg-type]

    def applied(self: Stylesheet, node: object, *args: object, **kwargs: object) -> None:
        if not seen:
            styled.append(getattr(node, "id", None) or type(node).__name__)
        apply(self, node, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(LocalAIApp, "_display", displayed)
    monkeypatch.setattr(Stylesheet, "apply", applied)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.query("#params")  # the deferred mounts came
        assert seen == [looks(first)]
        assert app.screen.focused is app.screen.query_one("#prompt")
    # The prompt: as it mounts, and as it gets the focus (:focus lights its border).
    assert styled.count("prompt") == 2 and styled.count("messages") == 1
    # Messages and the params panel come after that frame, and their rules with them.
    assert {"app.tcss", "chat.tcss"} <= parsed and "chat_messages.tcss" not in parsed


async def test_a_screens_own_stylesheet_is_parsed_as_it_first_opens(
    make_app: Callable[..., LocalAIApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The images and modal stylesheets are not parsed for the first frame (the chat uses
    neither); the picker's is added as it opens, styles it, and the others stay parsed
    (Textual parsed every stylesheet afresh to add a screen's CSS_PATH). The chat's messages
    and params panel rules are added after the first frame, before the panel mounts."""
    from textual.css.stylesheet import Stylesheet

    reparses: list[str] = []
    reparse = Stylesheet.reparse

    def reparsed(self: Stylesheet) -> None:
        reparses.append("reparse")
        reparse(self)

    monkeypatch.setattr(Stylesheet, "reparse", reparsed)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()

        def files() -> set[str]:
            return {Path(path).name for path, _ in app.stylesheet.source if path}

        assert {"app.tcss", "chat.tcss", "chat_messages.tcss"} <= files()  # params: mounted
        assert app.screen.query_one("#params").styles.border_left[0] == "vkey"
        assert not files() & {"modals.tcss", "images.tcss"}
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.screen.query_one("#picker").styles.border.top[0] == "round"
        await pilot.press("escape", "f1")
        await pilot.pause()
        assert app.screen.query_one("#help").styles.border.top[0] == "round"
        assert "modals.tcss" in files()
    assert reparses == []


def test_a_start_without_flags_or_with_only_offline_needs_no_argparse() -> None:
    """`localai-tui` and `localai-tui --offline` read their flags without argparse (~7M
    instructions of the first frame); any other flag goes through it as before."""
    code = (
        "import json, sys\n"
        "from tui.cli import parse_args\n"
        "plain, offline = parse_args([]), parse_args(['--offline'])\n"
        "before = 'argparse' in sys.modules\n"
        "other = parse_args(['--offline', '--model', 'm.gguf'])\n"
        "print(json.dumps([before, plain.offline, offline.offline, plain.model, other.model,"
        " other.offline]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout) == [False, False, True, None, "m.gguf", True]


async def test_the_collector_is_off_until_the_first_frame_then_on(
    make_app: Callable[..., LocalAIApp],
) -> None:
    """`localai-tui` starts with the garbage collector off (its collections walked the
    start-up's long-lived objects: ~23M instructions of the first frame); the first frame
    turns it back on, and so does the entry point when it ends early."""
    import gc

    try:
        gc.disable()
        with pytest.raises(SystemExit):
            main(["--engine", "openai"])  # a usage error ends the entry point
        assert gc.isenabled()
        gc.disable()  # as tui.cli.main leaves it for the app
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.screen.query("#params")  # past the first frame
            assert gc.isenabled()
    finally:
        gc.enable()
