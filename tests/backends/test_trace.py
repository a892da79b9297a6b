"""LOCALAI_TUI_TRACE: marks along the Enter -> first token path, for bench/remote_chat.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "from backends.trace import mark; mark('enter'); mark('request')"


def _run(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-c", SCRIPT], check=True, cwd=ROOT, env={**os.environ, **env})


def test_marks_go_to_the_trace_file_in_order(tmp_path: Path) -> None:
    trace = tmp_path / "app.trace"
    _run({"LOCALAI_TUI_TRACE": str(trace), "PYTHONPATH": str(ROOT)})
    lines = [line.split() for line in trace.read_text().splitlines()]
    assert [label for _, label, _ in lines] == ["enter", "request"]
    assert float(lines[0][0]) <= float(lines[1][0])  # one clock, for every process


def test_without_the_variable_nothing_is_written(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LOCALAI_TUI_TRACE"}
    subprocess.run(
        [sys.executable, "-c", SCRIPT],
        check=True,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    assert list(tmp_path.iterdir()) == []
