"""Startup: launch -> first frame of localai-tui vs a bare Textual app, side by side.

Each program runs in a real pseudo-terminal (120x40), interleaved, in fresh config/data
dirs. The clock stops when a marker the first frame really shows appears in what the
program wrote: the empty chat's hint for localai-tui, a Static's text for the bare app.
Prints medians, the ratio, the CPU time each process had used by its first frame (read by the
process itself as it writes the frame, so what it does after that frame is not counted: on a
busy machine wall time mostly measures waiting for a core, CPU time what the program itself
did), and which heavy runtimes localai-tui had imported by
its first frame and by the end of each run (the demo model, when installed, loads just after the
first frame, through llama.cpp: torch must never appear). Target: first frame <= 0.5 s.

    /work/venv/bin/python bench/startup.py [--runs 7] [--compare DIR]

`--compare DIR` also runs another checkout of the app (such as the code before a change) in
the same interleaved rounds, and prints its figures beside this tree's.

`--instructions` instead runs each program once under valgrind (callgrind, ~15 s each) and
prints the instructions each executed up to its first frame: a count that a busy machine does
not change (two runs agree within 0.1 %), where time and CPU time swing by 20 %.

Both checkouts are byte-compiled first, as an installed package is: with
PYTHONDONTWRITEBYTECODE set (as on the shared machines) every launch otherwise compiled the
app's ~55 start-up modules from source, ~40 ms of CPU the bare app (Textual's compiled
modules only) never paid.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = b"Ask anything."  # tui/chat/message_list.py EMPTY_HINT, mounted with the chat
BARE_MARKER = b"bare-textual-ready"
HEAVY = ("torch", "transformers", "llama_cpp", "diffusers", "faster_whisper")
LINGER_S = 2.0  # after the first frame: time for the startup model load to import its runtime

# Both programs note their CPU time (all threads) when the frame with their marker is written
# to the terminal, in the file BENCH_FRAME_CPU names. Read from /proc when the bench sees the
# marker instead, it counted what localai-tui does right after its first frame (the spare
# engine host, the deferred mounts) for as long as the bench waited for a core.
FRAME_CPU = textwrap.dedent(
    """
    import os as _os, time as _time
    from textual.drivers.linux_driver import LinuxDriver as _Driver

    _write = _Driver.write
    _pending = [""]  # what was written until the marker showed; then empty

    def _noting_cpu(self, data, _marker={marker!r}):
        if _pending:
            _pending[0] += data
            if _marker in _pending[0]:
                _pending.clear()
                with open(_os.environ["BENCH_FRAME_CPU"], "w") as f:
                    f.write(str(_time.process_time()))
                if _os.environ.get("BENCH_EXIT_AT_FRAME"):
                    _os._exit(0)  # under valgrind: its count ends with the first frame
        return _write(self, data)

    _Driver.write = _noting_cpu
    """
)

BARE_APP = textwrap.dedent(
    """
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("bare-textual-ready")
            yield Footer()

    Bare().run()
    """
)

# Runs localai-tui exactly as `python -m tui --offline`, recording when each heavy runtime
# gets imported (appended to a file at once: the process is killed, not asked to exit).
OURS = textwrap.dedent(
    """
    import importlib.abc, sys, time
    START = time.perf_counter()
    HEAVY = {heavy!r}
    LOG = {log!r}

    class Recorder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name in HEAVY:
                with open(LOG, "a") as f:
                    f.write(f"{{name}} {{time.perf_counter() - START:.3f}}\\n")
            return None

    sys.meta_path.insert(0, Recorder())
    {frame_cpu}
    sys.argv = ["localai-tui", "--offline"]
    from tui.cli import main
    sys.exit(main())
    """
)


def time_to_marker(
    argv: list[str],
    marker: bytes,
    env: dict[str, str],
    *,
    linger: float = 0.0,
    timeout: float = 30,
    cpu: list[float] | None = None,
) -> float:
    """Seconds from spawn until `marker` is drawn; the program then runs `linger` s more.
    The CPU seconds the program had used by then are appended to `cpu` (as it noted them in
    the file env["BENCH_FRAME_CPU"] names; else read from /proc now)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
    )
    os.close(slave)
    seen = b""
    found: float | None = None
    try:
        while time.perf_counter() - start < timeout:
            if found is not None and time.perf_counter() - start >= found + linger:
                return found
            ready, _, _ = select.select([master], [], [], 0.02)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if found is None:
                    seen += chunk
                    if marker in seen:
                        found = time.perf_counter() - start
                        if cpu is not None:
                            cpu.append(frame_cpu(env) or cpu_seconds(proc.pid))
        if found is not None:
            return found
        tail = seen[-600:].decode("utf-8", "replace")
        raise RuntimeError(
            f"{marker!r} not drawn within {timeout}s by {argv}; last output:\n{tail}"
        )
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)


def frame_cpu(env: dict[str, str]) -> float | None:
    """The CPU seconds a program noted as it wrote its marker (FRAME_CPU), if it did."""
    try:
        return float(Path(env["BENCH_FRAME_CPU"]).read_text())
    except (KeyError, OSError, ValueError):
        return None


def cpu_seconds(pid: int) -> float:
    """CPU time a live process has used, all its threads (Linux schedstat, in nanoseconds)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def byte_compile(root: Path) -> None:
    """Write the .pyc files of the app's packages (compileall ignores
    PYTHONDONTWRITEBYTECODE, which only stops an import from writing them)."""
    packages = [str(root / name) for name in ("tui", "backends") if (root / name).is_dir()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True)


def _imports(log: Path) -> dict[str, float]:
    """First import time of each heavy runtime, from the recorder's log."""
    found: dict[str, float] = {}
    if log.exists():
        for line in log.read_text().splitlines():
            name, at = line.split()
            found.setdefault(name, float(at))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="interleaved runs (default 7)")
    parser.add_argument(
        "--compare", metavar="DIR", type=Path, help="another checkout, measured interleaved"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions to the first frame under valgrind instead (once each)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="localai-bench-startup-"))
    compare = args.compare.resolve() if args.compare else None
    try:
        if args.instructions:
            return _count_instructions(tmp, compare)
        return _run(tmp, args.runs, compare)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _count_instructions(tmp: Path, compare: Path | None) -> int:
    """Instructions each program executes until it writes its first frame (callgrind)."""
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    bare = tmp / "bare.py"
    bare.write_text(FRAME_CPU.format(marker=BARE_MARKER.decode()) + BARE_APP)
    script = tmp / "ours.py"
    hook = FRAME_CPU.format(marker=MARKER.decode())
    script.write_text(OURS.format(heavy=HEAVY, log=str(tmp / "imports.log"), frame_cpu=hook))
    programs: list[tuple[str, Path, Path | None]] = [
        ("bare Textual app", bare, None),
        ("localai-tui", script, ROOT),
    ]
    if compare is not None:
        programs.append((f"compared ({compare})", script, compare))
    counts: list[int] = []
    for name, program, root in programs:
        if root is not None:
            byte_compile(root)
        run_dir = tmp / f"count{len(counts)}"
        run_dir.mkdir()
        log = run_dir / "valgrind.log"
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "PYTHONPATH": str(root or ROOT),
            "LOCALAI_TUI_CONFIG": str(run_dir / "config.toml"),
            "LOCALAI_TUI_DATA_DIR": str(run_dir / "data"),
            "HF_HOME": str(run_dir / "hf"),
            "BENCH_FRAME_CPU": str(run_dir / "frame.cpu"),
            "BENCH_EXIT_AT_FRAME": "1",
        }
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={run_dir / 'out'}"]
        argv += [f"--log-file={log}", sys.executable, str(program)]
        run_in_terminal(argv, env, timeout=300)
        found = [line for line in _read(log).splitlines() if "Collected :" in line]
        if not found:
            print(f"{name}: no count (see {log})\n{_read(log)[-600:]}", file=sys.stderr)
            return 2
        counts.append(int(found[0].split(":")[-1]))
        ratio = counts[-1] / counts[0]
        print(f"{name:40s}: {counts[-1] / 1e6:8.1f} M instructions, ratio {ratio:.3f}")
    return 0


def run_in_terminal(argv: list[str], env: dict[str, str], timeout: float) -> None:
    """Run a program in a 120x40 pseudo-terminal until it exits (its output is dropped)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
    )
    os.close(slave)
    start = time.perf_counter()
    try:
        while proc.poll() is None and time.perf_counter() - start < timeout:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        proc.wait(timeout=max(1.0, timeout - (time.perf_counter() - start)))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _run(tmp: Path, runs: int, compare: Path | None) -> int:
    bare = tmp / "bare.py"
    bare.write_text(FRAME_CPU.format(marker=BARE_MARKER.decode()) + BARE_APP)
    for root in (ROOT, compare) if compare else (ROOT,):
        byte_compile(root)
    ours, base, other = [], [], []
    ours_cpu: list[float] = []
    base_cpu: list[float] = []
    other_cpu: list[float] = []
    imports: list[tuple[float, dict[str, float]]] = []
    for run in range(runs):  # interleaved, alternating order, so machine noise hits both alike
        run_dir = tmp / f"run{run}"
        log = run_dir / "imports.log"
        run_dir.mkdir()
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": "120",
            "LINES": "40",
            "PYTHONPATH": str(ROOT),
            "LOCALAI_TUI_CONFIG": str(run_dir / "config.toml"),
            "LOCALAI_TUI_DATA_DIR": str(run_dir / "data"),
            "HF_HOME": str(run_dir / "hf"),
        }
        script = run_dir / "ours.py"
        frame_cpu_hook = FRAME_CPU.format(marker=MARKER.decode())
        script.write_text(OURS.format(heavy=HEAVY, log=str(log), frame_cpu=frame_cpu_hook))

        def measure_ours() -> None:
            # script, env and log are this iteration's (called right away, never later)
            first = time_to_marker(
                [sys.executable, str(script)],  # noqa: B023
                MARKER,
                {**env, "BENCH_FRAME_CPU": str(run_dir / "ours.cpu")},  # noqa: B023
                linger=LINGER_S,
                cpu=ours_cpu,
            )
            ours.append(first)
            imports.append((first, _imports(log)))  # noqa: B023

        def measure_bare() -> None:
            argv = [sys.executable, str(bare)]  # noqa: B023
            bare_env = {**env, "BENCH_FRAME_CPU": str(run_dir / "bare.cpu")}  # noqa: B023
            base.append(time_to_marker(argv, BARE_MARKER, bare_env, cpu=base_cpu))

        def measure_other() -> None:
            assert compare is not None
            argv = [sys.executable, str(script)]  # noqa: B023
            # Its own data dir: a newer checkout's database can be one it refuses to open.
            other_env = {
                **env,  # noqa: B023
                "PYTHONPATH": str(compare),
                "LOCALAI_TUI_DATA_DIR": str(run_dir / "data-compared"),  # noqa: B023
                "BENCH_FRAME_CPU": str(run_dir / "compared.cpu"),  # noqa: B023
            }
            other.append(time_to_marker(argv, MARKER, other_env, cpu=other_cpu))

        order = [measure_bare, measure_ours] + ([measure_other] if compare else [])
        for measure in order[run % len(order) :] + order[: run % len(order)]:
            measure()
        first, imported = imports[-1]
        print(
            f"  run {run + 1}: bare {base[-1] * 1000:5.0f} ms  localai-tui {first * 1000:5.0f} ms"
            f"  (CPU {base_cpu[-1] * 1000:4.0f} / {ours_cpu[-1] * 1000:4.0f} ms)"
            f"  runtimes imported: {json.dumps(imported) if imported else 'none'}"
            + (
                f"  compared {other[-1] * 1000:5.0f} ms (CPU {other_cpu[-1] * 1000:4.0f})"
                if compare
                else ""
            ),
            flush=True,
        )
    o, b = statistics.median(ours), statistics.median(base)
    before_frame = sorted({n for f, i in imports for n, at in i.items() if at <= f})
    ever = sorted({n for _, i in imports for n in i})
    print()
    print(f"bare Textual app first frame : {b * 1000:6.0f} ms (median of {runs})")
    print(f"localai-tui first frame      : {o * 1000:6.0f} ms (median of {runs})  target <= 500 ms")
    print(f"ratio localai-tui / bare     : {o / b:6.2f}")
    oc, bc = statistics.median(ours_cpu), statistics.median(base_cpu)
    print(f"CPU by the first frame       : {bc * 1000:6.0f} ms bare, {oc * 1000:.0f} ms ours")
    print(f"CPU ratio localai-tui / bare : {oc / bc:6.2f}")
    if compare:
        c, cc = statistics.median(other), statistics.median(other_cpu)
        print(f"compared ({compare}) first frame : {c * 1000:6.0f} ms, ratio {c / b:.2f}")
        print(f"compared CPU by the first frame : {cc * 1000:6.0f} ms, ratio {cc / bc:.2f}")
    print(f"runtimes imported before the first frame : {', '.join(before_frame) or 'none'}")
    print(f"runtimes imported within {LINGER_S:.0f} s after it  : {', '.join(ever) or 'none'}")
    print(f"torch imported                           : {'YES' if 'torch' in ever else 'no'}")
    return 1 if "torch" in ever or before_frame else 0


if __name__ == "__main__":
    sys.exit(main())
