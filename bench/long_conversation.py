"""Reopen a long conversation -> its last answer on screen, mounting a window vs everything.

Builds conversations of 58 and 1,000 messages in a fresh store (user questions and Markdown
answers with a list and a code block, as a model writes them), then opens each in the real
app under Pilot (headless, 120x40) and times `open_conversation` until the last answer is
mounted, laid out and inside the visible region. The app has finished starting first (its
panel mounted, the renderer imported, the last chat reopened), as when a user opens a chat
with ctrl+l: the clock measures the reopen, not the start-up still running beside it.
Prints the median wall time and the median CPU time the process used meanwhile (on a
shared machine wall time mostly measures waiting for a core).

"window" is the app as shipped (tui/chat/message_list.py: the last messages that fill two
screens, at most SHOWN_AT_OPEN); with `--all`, each size also runs once mounting every
message (the behaviour before; it takes minutes at 1,000). Target: <= 1 s for 1,000 messages.

    PYTHONPATH=. python bench/long_conversation.py [--runs 5] [--all]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ANSWER = """Here is how to do it:

1. Read the file with `open(path)` and keep the handle short-lived.
2. Split each line on the separator, then **strip** the fields.
3. Collect the rows in a list and sort them by the second column.

```python
with open(path) as f:
    rows = [line.rstrip("\\n").split(";") for line in f]
rows.sort(key=lambda r: r[1])
```

That keeps memory flat for files of a few hundred megabytes; for larger ones, stream them
with `csv.reader` instead of reading everything at once. Answer {n}.
"""


def build(store_path: Path, messages: int) -> int:
    from backends.store.conversations import ConversationStore

    store = ConversationStore(store_path)
    conversation = store.create_conversation(f"{messages} messages", model_key="bench")
    for n in range(messages // 2):
        store.add_message(conversation, "user", f"Question {n}: how do I sort a CSV file?")
        answer = store.add_message(conversation, "assistant", ANSWER.format(n=n), model_key="bench")
        store.set_message_stats(answer, {"finish_reason": "stop", "completion_tokens": 120})
    store.close()
    return conversation


async def reopen(store_path: Path, conversation: int, window: int) -> tuple[float, float]:
    """Wall and CPU seconds from `open_conversation` to the last answer in view."""
    import tui.chat.message_list as message_list
    from backends.models.manager import ModelManager
    from backends.settings import load_settings
    from backends.store.conversations import ConversationStore
    from tui.app import LocalAIApp
    from tui.chat.message_list import MessageList

    message_list.SHOWN_AT_OPEN = window
    message_list.SCREENS_AT_OPEN = 2 if window < 10**9 else 10**9
    settings = load_settings()
    app = LocalAIApp(
        settings,
        store=ConversationStore(store_path),
        manager=ModelManager(settings, recents_path=store_path.parent / "recent.json"),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        chat = app.chat
        while not chat.query("#params") or any(
            worker.group == "warm-up" and not worker.is_finished for worker in app.workers
        ):
            await pilot.pause(0.01)
        await pilot.pause()
        messages = chat.query_one(MessageList)
        start, cpu = time.perf_counter(), time.process_time()
        chat.open_conversation(conversation)  # type: ignore[attr-defined]
        while True:
            await asyncio.sleep(0.005)
            views = messages.views
            last = views[-1] if views else None
            if (
                last is not None
                and last.role == "assistant"
                and last.region.height > 0
                and messages.region.contains_region(last.region)
            ):
                break
        elapsed = time.perf_counter() - start, time.process_time() - cpu
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="reopens per size (default 5)")
    parser.add_argument(
        "--all", action="store_true", help="also mount every message once (minutes at 1,000)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="long-conversation-"))
    os.environ.setdefault("LOCALAI_TUI_CONFIG", str(work / "config.toml"))
    os.environ.setdefault("LOCALAI_TUI_DATA_DIR", str(work / "data"))
    import backends.models.catalog
    from tui.chat.message_list import SHOWN_AT_OPEN

    # No model: loading the demo at start would compete with the reopen for the CPU.
    backends.models.catalog.demo_spec = lambda: None  # type: ignore[assignment]
    print(f"reopen -> last answer on screen (median of {args.runs}; load {_load()})")
    for size in (58, 1000):
        store_path = work / f"c{size}.sqlite3"
        conversation = build(store_path, size)
        runs = [asyncio.run(reopen(store_path, conversation, SHOWN_AT_OPEN))
                for _ in range(args.runs)]  # fmt: skip
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        line = f"{size:5d} messages: window {wall:6.3f} s (CPU {cpu:6.3f} s)"
        if args.all:
            everything, _ = asyncio.run(reopen(store_path, conversation, 10**9))
            line += f" · all {everything:6.3f} s · window/all {wall / everything:.2f}"
        print(line, flush=True)
    print("target: <= 1 s for 1,000 messages")
    return 0


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
