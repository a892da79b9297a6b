"""App RSS growth per answer in one conversation (target <= 0.1 MB per answer).

The real app under Pilot (headless, 120x40) with an in-process scripted engine (no model
memory in the picture): one conversation, `--answers` prompts typed and sent, each answer
~300 tokens of Markdown (paragraphs, lists, code blocks). After each answer: a full
`gc.collect()`, then the process's RSS. The growth per answer is the least-squares slope
over the answers after the first `--warmup` (imports, caches, the first layouts and the
first unmounting of old messages, past MOUNTED_MAX, happen there). Two processes side by
side: "shipped" (tui/chat/message_list.py MOUNTED_MAX) and "unbounded" (every message stays
mounted, as before). `--top N` also prints the N allocation sites that grew most
(tracemalloc) between the end of the warm-up and the last answer: what is kept per answer.

`--runs N` repeats the pair N times and prints each slope and the medians.

    PYTHONPATH=. python bench/answer_memory.py [--runs 3] [--answers 40] [--warmup 26] [--top 15]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ANSWER = (
    "Sure. Here is a **short** answer with a list:\n\n"
    "- first, read the file\n- then, split each line\n- finally, sort the rows\n\n"
    "```python\nrows = sorted(line.split(';') for line in open(path))\n```\n\n"
    "That is all there is to it; for large files stream them with `csv.reader`. " * 1
)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def slope(values: list[float]) -> float:
    n = len(values)
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    den = sum((x - mean_x) ** 2 for x in range(n))
    return num / den if den else 0.0


async def run(answers: int, warmup: int, top: int, unbounded: bool) -> list[float]:
    import tracemalloc

    import tui.chat.message_list as message_list

    if unbounded:  # every message stays mounted: the app before MOUNTED_MAX
        message_list.MOUNTED_MAX = 10**9

    from backends.models.manager import ModelManager
    from backends.settings import load_settings
    from backends.store.conversations import ConversationStore
    from tests.fixtures.scripted_engine import SCRIPTS, Script, ScriptedEngine, scripted_spec
    from tui.app import LocalAIApp
    from tui.chat.message_view import MessageView
    from tui.chat.prompt_input import PromptInput

    words = ANSWER.split(" ")
    SCRIPTS["bench"] = Script(tokens=[w + " " for w in words] * 4)
    work = Path(tempfile.mkdtemp(prefix="answer-memory-"))
    settings = load_settings()
    settings.sampling.max_new_tokens = 4096
    app = LocalAIApp(
        settings,
        store=ConversationStore(work / "conversations.sqlite3"),
        manager=ModelManager(
            settings,
            recents_path=work / "recent.json",
            engine_factory=lambda name: ScriptedEngine(),
        ),
        startup_model=scripted_spec("bench", "Bench"),
    )
    sizes: list[float] = []
    before = None
    async with app.run_test(size=(120, 40)) as pilot:
        while app.manager.spec is None:
            await pilot.pause(0.01)
        chat = app.chat
        for n in range(answers):
            box = chat.query_one(PromptInput)
            box.focus()
            box.text = f"question {n}: how do I sort a file?"
            await pilot.pause()
            await pilot.press("enter")
            while chat.generating or len(chat.query(MessageView)) < 2:  # type: ignore[attr-defined]
                await pilot.pause(0.01)
            await pilot.pause()
            gc.collect()
            sizes.append(rss_mb())
            if top and n == warmup - 1:
                tracemalloc.start(8)
                before = tracemalloc.take_snapshot()
        if top and before is not None:
            gc.collect()
            after = tracemalloc.take_snapshot()
            print(f"allocation sites that grew most over {answers - warmup} answers:")
            for stat in after.compare_to(before, "traceback")[:top]:
                print(f"  {stat.size_diff / 1e3:8.1f} kB  {stat.count_diff:6d} blocks")
                for line in stat.traceback.format()[-6:]:
                    print("      " + line)
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--answers", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=26)
    parser.add_argument("--runs", type=int, default=1, help="pairs of processes (default 1)")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--variant", choices=("shipped", "unbounded"))
    args = parser.parse_args()
    if args.variant is None:
        return side_by_side(args)
    work = Path(tempfile.mkdtemp(prefix="answer-memory-cfg-"))
    os.environ.setdefault("LOCALAI_TUI_CONFIG", str(work / "config.toml"))
    os.environ.setdefault("LOCALAI_TUI_DATA_DIR", str(work / "data"))
    start = time.perf_counter()
    sizes = asyncio.run(run(args.answers, args.warmup, args.top, args.variant == "unbounded"))
    growth = slope(sizes[args.warmup :])
    print(
        f"{args.variant}: RSS {sizes[0]:.1f} MB after answer 1, "
        f"{sizes[args.warmup - 1]:.1f} MB after {args.warmup}, "
        f"{sizes[-1]:.1f} MB after {len(sizes)} "
        f"({time.perf_counter() - start:.0f} s)"
    )
    print(f"{args.variant}: growth per answer after the warm-up: {growth * 1000:.0f} kB")
    return 0


def side_by_side(args: argparse.Namespace) -> int:
    """Both variants at once, each in its own process (memory is per process)."""
    import re
    import statistics
    import subprocess

    command = [sys.executable, __file__, "--answers", str(args.answers),
               "--warmup", str(args.warmup), "--top", str(args.top)]  # fmt: skip
    growth: dict[str, list[float]] = {"shipped": [], "unbounded": []}
    code = 0
    for run in range(args.runs):
        print(f"run {run + 1} (load {os.getloadavg()[0]:.1f})", flush=True)
        processes = {
            variant: subprocess.Popen(
                [*command, "--variant", variant], stdout=subprocess.PIPE, text=True
            )
            for variant in growth
        }
        for variant, process in processes.items():
            out, _ = process.communicate()
            print(out, end="", flush=True)
            code = max(code, process.returncode)
            found = re.search(r"growth per answer after the warm-up: (-?\d+) kB", out)
            if found:
                growth[variant].append(float(found.group(1)))
    for variant, values in growth.items():
        if values:
            print(f"{variant}: median growth per answer {statistics.median(values):.0f} kB "
                  f"over {len(values)} run(s)")  # fmt: skip
    print("target: <= 100 kB per answer")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
