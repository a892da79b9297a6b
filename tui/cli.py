"""`localai-tui` entry point: flags, settings, logging to a file, then the app.

Logging never goes to stderr: Textual draws the screen there.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from tui import __version__

if TYPE_CHECKING:
    import argparse


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="localai-tui",
        description="Chat with local models (llama.cpp, transformers, OpenAI-compatible servers).",
        epilog="Keys: Enter sends, ctrl+j new line, ctrl+o models, alt+1..9 recent models, "
        "Esc stops, F1 all keys, ctrl+p commands.",
    )
    parser.add_argument(
        "--model",
        help="a .gguf file, a model folder, a model key, or a repo id in the Hugging Face cache",
    )
    parser.add_argument(
        "--engine",
        choices=["llama_cpp", "transformers", "openai"],
        help="engine for --model (default: from the file type); openai asks the first server",
    )
    parser.add_argument("--config", type=Path, help="settings TOML (default: user config dir)")
    parser.add_argument(
        "--offline", action="store_true", help="never touch the network (Hub or remote servers)"
    )
    parser.add_argument("--version", action="version", version=f"localai-tui {__version__}")
    return parser


def setup_logging() -> Path:
    from backends.paths import log_file

    path = log_file()
    logging.basicConfig(
        filename=path,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.captureWarnings(True)
    return path


def prestart_spare_host() -> None:
    """Start the spare engine host (imported here: multiprocessing is not needed sooner)."""
    from backends.host.spawn import prestart_spare

    prestart_spare()


def parse_args(argv: list[str] | None) -> argparse.Namespace | SimpleNamespace:
    """The flags. A start with none, or only --offline, needs no parser: argparse costs
    ~7M instructions (~1.5 ms) of the first frame."""
    given = sys.argv[1:] if argv is None else argv
    if all(arg == "--offline" for arg in given):
        return SimpleNamespace(model=None, engine=None, config=None, offline=bool(given))
    parser = build_parser()
    args = parser.parse_args(given)
    if args.engine and not args.model:
        parser.error("--engine goes with --model (which model should it run?)")
    return args


def main(argv: list[str] | None = None) -> int:
    # No garbage collection until the first frame is drawn (the app freezes what start-up
    # built, then turns it back on): start-up makes ~100k objects that live as long as the
    # app and little garbage, and each full collection on the way walked all those so far.
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv)
    # A typed key's echo waits for the screen's next frame slot, up to 1/FPS after the last
    # frame, and while an answer streams one was often just drawn: 120 slots a second, not
    # Textual's 60 (frames are still drawn only when something changed). Textual reads it
    # when imported, which is after this.
    os.environ.setdefault("TEXTUAL_FPS", "120")
    from backends.errors import BackendError
    from backends.settings import load_settings

    if args.config is not None and not args.config.is_file():
        print(
            f"localai-tui: there is no settings file at {args.config}. Check the path, or "
            "leave out --config to use the default settings file.",
            file=sys.stderr,
        )
        return 2
    setup_logging()
    overrides = {"offline": True} if args.offline else {}
    try:
        settings = load_settings(args.config, **overrides)
    except (ValueError, OSError) as exc:  # SettingsError names each bad field and its value
        print(
            f"localai-tui: the settings are invalid (fix them and start again).\n{exc}",
            file=sys.stderr,
        )
        return 2
    if settings.offline:
        os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub is imported
    startup = None
    if args.model:
        from backends.models.catalog import spec_from_cli

        try:
            startup = spec_from_cli(args.model, args.engine, settings)
        except BackendError as exc:
            print(f"localai-tui: {exc.title}: {exc.message}", file=sys.stderr)
            return 2
    from tui.app import LocalAIApp
    from tui.widgets.image_preview import probe_terminal_graphics

    # Before Textual owns the terminal (textual-image asks it what it can draw).
    probe_terminal_graphics(settings.images.renderer)
    import functools

    from backends.models.manager import ModelManager

    # Each load reads the file again: an n_ctx edited for a model applies on its next load.
    reread = functools.partial(load_settings, args.config, **overrides)
    try:
        manager = ModelManager(settings, reread_settings=reread)
        # The startup model's engine host starts its Python once the first frame is drawn
        # (before the model load, which takes it): started earlier, the child's start-up
        # competed for the CPU with the first frame (bench/startup.py).
        app = LocalAIApp(
            settings, startup_model=startup, manager=manager, after_first_frame=prestart_spare_host
        )
    except BackendError as exc:  # e.g. a damaged conversation database
        print(f"localai-tui: {exc.title}: {exc.message}", file=sys.stderr)
        return 2
    app.run()
    return 0
