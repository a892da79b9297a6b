"""Remote chat: the app vs a bare HTTP streaming client against the same local server.

A paced OpenAI-compatible server runs in its own process (`--rate` tok/s after `--ttft-ms`
of "prompt evaluation", default 100 tok/s and 80 ms, like llama.cpp's server with a small
model; it records when it sent each token, so every run is compared with the server's own
decode rate, not with another run's). Unlike a real server it needs almost no CPU, so the
2 cores are the app's and the client's. Every token is a numbered word (`r<request>w<index>`,
a blank line every 60 tokens, like paragraphs), so the highest number drawn tells how much
of the answer is on screen.

The app is the real `localai-tui --model bench/paced --engine openai` in a pseudo-terminal
(120x40), configured for that server, driven like a user: a new chat (ctrl+n), a prompt,
Enter, then keys typed while the answer streams. Everything it writes to the terminal is
read as it comes (no polling interval: finer than polling a tmux pane at 50 Hz); "on
screen" is when the bytes that draw it were written. Rounds rotate between the app, the
bare `httpx` client and (with `--compare DIR`) another checkout of the app, such as the
code before a change, all in one invocation.

Figures (ratios, because this 2-core machine is shared and drifts between runs):
- tokens/s on screen ÷ the server's decode rate for that same request (keep >= 0.98);
- Enter -> first token on screen, minus the bare client's request -> first token (<= +20 ms);
- key latency while streaming: key written -> its echo in the prompt drawn (p50/p95,
  target p95 <= 30 ms, issue #12);
- launch -> first frame vs a bare Textual app, interleaved (target <= 0.5 s and <= 1.2x the
  bare app), and the CPU time each had used by then (steadier than wall time here);
- idle RSS with the remote model loaded (keep <= 80 MB).

Where Enter -> first token goes: the app runs with LOCALAI_TUI_TRACE (backends/trace.py), and
the marks it reached between Enter and the first token drawn are printed per stage (median
ms after Enter, with the server's receipt and first token among them); `--stages` prints
every answer's marks.

    /work/main/.venv/bin/python bench/remote_chat.py [--runs 6] [--tokens 400] [--rate 100]
    /work/main/.venv/bin/python bench/remote_chat.py --compare /tmp/localai-before
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import random
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODEL = "bench/paced"
SERVER_NAME = "bench"
PARAGRAPH_EVERY = 60
READY_MARKER = b"ready"  # the status line once the model is loaded (tui/chat/status_line)
FIRST_FRAME_MARKER = b"Ask anything."  # the empty chat's hint
KEY_PREFIX = "QZ"  # typed first in each round, unmeasured: makes every measured echo unique
KEY_ALPHABET = "ABCDEFGHIJKLMNOPRSTUVWXY"  # measured keys; never in an answer (lowercase)
KEY_TIMEOUT_S = 2.0
# Keys start this long after Enter (and once text shows), the same for every variant: an app
# that shows its first token sooner would otherwise have more keys measured in the busy
# moments right after Enter, while the views mount.
KEYS_AFTER_S = 0.4


# -- the paced server (its own process) ------------------------------------------------------


@dataclass
class Served:
    received: float = 0.0  # request body read (perf_counter: CLOCK_MONOTONIC, all processes)
    sent: list[float] = field(default_factory=list)  # when each token was written


def serve(port: int, rate: float, ttft: float) -> None:
    """Serve /v1/models and streamed /v1/chat/completions at `rate` tok/s, forever."""
    served: dict[int, Served] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _chunk(self, payload: Any) -> None:
            text = payload if isinstance(payload, str) else json.dumps(payload)
            data = f"data: {text}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def do_GET(self) -> None:
            if self.path.startswith("/bench/"):
                number = int(self.path.rsplit("/", 1)[1])
                with lock:
                    entry = served.get(number)
                self._json(
                    None if entry is None else {"received": entry.received, "sent": entry.sent}
                )
                return
            self._json({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if not self.path.endswith("/chat/completions"):
                # Ollama's /api/show (the app asks it whether a model takes images): a
                # server that is not Ollama answers 404, and no request number is used up.
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            entry = Served(received=time.perf_counter())
            with lock:
                number = len(served) + 1
                served[number] = entry
            tokens = int(body.get("max_tokens") or 400)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            base = {"id": f"bench-{number}", "object": "chat.completion.chunk", "model": MODEL}

            def chunk(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
                return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}

            try:
                self._chunk(chunk({"role": "assistant", "content": None}))
                start = entry.received + ttft
                for i in range(tokens):
                    due = start + i / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    word = f"r{number}w{i}"
                    if i and i % PARAGRAPH_EVERY == 0:
                        text = f"\n\n{word}"
                    else:
                        text = f" {word}" if i else word
                    self._chunk(chunk({"content": text}))
                    entry.sent.append(time.perf_counter())
                usage = {"prompt_tokens": 10, "completion_tokens": tokens}
                self._chunk({**chunk({}, "length"), "usage": usage})
                self._chunk("[DONE]")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            if not isinstance(sys.exc_info()[1], ConnectionError):  # an app killed mid-run
                super().handle_error(request, client_address)

    httpd = QuietServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


class Server:
    """The paced server subprocess and its record of every request (numbered from 1)."""

    def __init__(self, rate: float, ttft: float) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                "--rate",
                str(rate),
                "--ttft-ms",
                str(ttft * 1000),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.requests = 0  # chat requests sent so far (this bench is the only client)

    def record(self, number: int) -> Served:
        import httpx

        data = httpx.get(f"http://127.0.0.1:{self.port}/bench/{number}").json()
        if data is None:
            raise RuntimeError(f"the server never got request {number}")
        return Served(received=data["received"], sent=data["sent"])

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


# -- one answer, measured --------------------------------------------------------------------


@dataclass
class Run:
    kind: str  # "app" or "bare"
    start: float  # Enter written / request sent
    shown: list[float]  # when token i was first on screen (bare: received)
    served: Served
    keys: list[float] = field(default_factory=list)  # key latencies (app)
    cpu: float = 0.0  # CPU seconds the app used, Enter to the whole answer drawn (app)
    # Where the app's traced path was (backends/trace.py), s after Enter: first of each mark.
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def first_token(self) -> float:
        return self.shown[0] - self.start

    @property
    def rate(self) -> float:
        return (len(self.shown) - 1) / (self.shown[-1] - self.shown[0])

    @property
    def server_rate(self) -> float:
        sent = self.served.sent
        return (len(sent) - 1) / (sent[-1] - sent[0])

    @property
    def lags(self) -> tuple[float, float]:
        """How long after the server sent them the first and the last token were on screen
        (one clock: perf_counter is CLOCK_MONOTONIC in every process)."""
        return self.shown[0] - self.served.sent[0], self.shown[-1] - self.served.sent[-1]

    @property
    def server_first_token(self) -> float:
        return self.served.sent[0] - self.served.received


def bare_run(server: Server, tokens: int) -> Run:
    """A plain httpx streaming client, as a script would write it (first chunk: role only)."""
    import httpx

    server.requests += 1
    number = server.requests
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "go"}],
        "stream": True,
        "max_tokens": tokens,
    }
    received: list[float] = []
    with httpx.Client(base_url=server.base_url + "/", timeout=60) as client:
        client.get("models")  # connect first, as the app did when it loaded the model
        start = time.perf_counter()
        with client.stream("POST", "chat/completions", json=body) as response:
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                choice = json.loads(line[6:])["choices"][0]
                if choice["delta"].get("content"):
                    received.append(time.perf_counter())
    return Run("bare", start, received, server.record(number))


class AppInPty:
    """The real app in a 120x40 pseudo-terminal; reads everything it draws as it comes."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.launched = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
        )
        os.close(slave)
        self.tail = b""  # the last bytes read, so a word split across two reads is still seen
        self.log = bytearray()

    def pump(self, timeout: float) -> bytes:
        """Bytes drawn within `timeout` s (the last 64 bytes before them included)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            chunk = os.read(self.master, 1 << 20)
        except OSError as error:
            raise RuntimeError("the app exited") from error
        seen = self.tail + chunk
        self.tail = seen[-64:]
        self.log += chunk
        if len(self.log) > 1 << 16:
            del self.log[: len(self.log) - (1 << 15)]
        return seen

    def wait_for(self, marker: bytes, timeout: float = 30) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if marker in self.pump(0.05):
                return time.perf_counter()
        tail = bytes(self.log[-800:]).decode("utf-8", "replace")
        raise RuntimeError(f"{marker!r} not drawn within {timeout} s; last output:\n{tail}")

    def drain(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.pump(max(0.0, end - time.perf_counter()))

    def send(self, data: str) -> float:
        os.write(self.master, data.encode())
        return time.perf_counter()

    def type_and_wait(self, text: str) -> None:
        for char in text:
            self.send(char)
        self.drain(0.3)

    def cpu_s(self) -> float:
        """CPU seconds the app has used (all its threads), from /proc."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        return kb / 1024

    def close(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        os.close(self.master)


def app_run(
    app: AppInPty, server: Server, tokens: int, rng: random.Random, trace: Path | None = None
) -> Run:
    """Prompt, Enter, then keys typed while the answer streams; tokens tracked as drawn."""
    server.requests += 1
    number = server.requests
    word = re.compile(rb"r%dw(\d+)" % number)
    shown: list[float] = []  # shown[i]: when token i (or a later one) was first drawn
    app.type_and_wait("\x0e")  # ctrl+n: a new chat, so every round starts alike
    app.type_and_wait("go")
    cpu_before = app.cpu_s()
    start = app.send("\r")
    typed = ""
    key_sent: float | None = None
    next_key_at = start + KEYS_AFTER_S
    latencies: list[float] = []
    deadline = start + 60 + tokens / 20
    while len(shown) < tokens:
        now = time.perf_counter()
        if now > deadline:
            raise RuntimeError(f"the answer stopped at token {len(shown)} of {tokens}")
        if shown and key_sent is None and now >= next_key_at and len(typed) < 40:
            typed += (KEY_PREFIX + KEY_ALPHABET)[len(typed) % (len(KEY_ALPHABET) + 2)]
            key_sent = app.send(typed[-1])
        seen = app.pump(0.002 if key_sent is None else 0.001)
        if not seen:
            continue
        stamp = time.perf_counter()
        top = max((int(m) for m in word.findall(seen)), default=-1)
        while len(shown) <= top:
            shown.append(stamp)
        if key_sent is not None and typed.encode() in seen:
            if len(typed) > len(KEY_PREFIX):
                latencies.append(stamp - key_sent)
            key_sent = None
            next_key_at = stamp + rng.uniform(0.05, 0.15)
        elif key_sent is not None and stamp - key_sent > KEY_TIMEOUT_S:
            raise RuntimeError(f"key {typed[-1]!r} not echoed within {KEY_TIMEOUT_S} s")
    cpu = app.cpu_s() - cpu_before
    app.drain(0.3)
    app.type_and_wait("\x7f" * len(typed))  # empty the prompt for the next round
    served = server.record(number)
    stages = _stages(trace, start, shown[0]) if trace is not None else {}
    return Run("app", start, shown, served, latencies, cpu, stages)


def _stages(trace: Path, start: float, shown: float) -> dict[str, float]:
    """The first time each mark was reached between Enter and the first token drawn
    (marks after the first text arrived are counted again, marked with a "+")."""
    stages: dict[str, float] = {}
    if not trace.exists():
        return stages
    after = ""
    for line in trace.read_text().splitlines():
        stamp_text, label, *_ = line.split()
        stamp = float(stamp_text)
        if not start - 0.05 <= stamp <= shown:
            continue
        if label == "first-text":
            after = "+"
        if after + label not in stages:
            stages[after + label] = stamp - start
    return stages


# -- launch -> first frame ---------------------------------------------------------------


def first_frame(argv: list[str], marker: bytes, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from spawn until `marker` is drawn, and the CPU seconds the process had used
    by then (from /proc: less sensitive than wall time to the rest of a shared machine)."""
    app = AppInPty(argv, env)
    try:
        app.wait_for(marker)
        wall = time.perf_counter() - app.launched
        fields = Path(f"/proc/{app.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        return wall, cpu
    finally:
        app.close()


# -- main -------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6, help="answers per side, interleaved")
    parser.add_argument("--tokens", type=int, default=400, help="answer length (default 400)")
    parser.add_argument("--rate", type=float, default=100.0, help="server tok/s (default 100)")
    parser.add_argument("--ttft-ms", type=float, default=80.0, help="server prompt time (ms)")
    parser.add_argument("--launches", type=int, default=5, help="first-frame runs per side")
    parser.add_argument(
        "--compare", metavar="DIR", help="another checkout of the app, measured interleaved"
    )
    parser.add_argument(
        "--stages", action="store_true", help="print each answer's traced marks (ms after Enter)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(0, args.rate, args.ttft_ms / 1000)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="localai-bench-remote-"))
    server = Server(args.rate, args.ttft_ms / 1000)
    try:
        return _run(args, server, tmp)
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Variant:
    """One checkout of the app under test (this tree, or --compare's) and its figures."""

    label: str
    root: Path
    env: dict[str, str]
    launches: list[tuple[float, float]] = field(default_factory=list)  # (wall, CPU) s
    runs: list[Run] = field(default_factory=list)
    idle_rss: float = 0.0
    after_rss: float = 0.0
    app: AppInPty | None = None


def _variant(label: str, root: Path, config: Path, tmp: Path) -> Variant:
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
        "PYTHONPATH": str(root),
        "LOCALAI_TUI_CONFIG": str(config),
        "LOCALAI_TUI_DATA_DIR": str(tmp / label / "data"),
        "HF_HOME": str(tmp / "hf"),
        "HF_HUB_OFFLINE": "1",
        # Marks along Enter -> first token (backends/trace.py; a tree without it ignores it).
        "LOCALAI_TUI_TRACE": str(tmp / f"{label}.trace"),
    }
    return Variant(label, root, env)


def _argv(root: Path) -> list[str]:
    """`localai-tui --model bench/paced --engine openai`, run from `root`'s code."""
    launcher = (
        f"import sys; sys.path.insert(0, {str(root)!r}); sys.argv[0] = 'localai-tui'; "
        "from tui.cli import main; sys.exit(main())"
    )
    return [sys.executable, "-c", launcher, "--model", MODEL, "--engine", "openai"]


def _print_run(label: str, round_: int, run: Run, stages: bool = False) -> None:
    keys = ""
    if run.keys:
        keys = (
            f"  keys p50 {percentile(run.keys, 0.5) * 1000:4.0f} ms"
            f" p95 {percentile(run.keys, 0.95) * 1000:4.0f} ms (n={len(run.keys)})"
        )
    print(
        f"  round {round_ + 1} {label:12s} first token {run.first_token * 1000:5.0f} ms"
        f" (server {run.server_first_token * 1000:4.0f})  {run.rate:6.1f} tok/s"
        f" ÷ server {run.server_rate:6.1f} = {run.rate / run.server_rate:.3f}{keys}"
        + (f"  CPU {run.cpu * 1000:4.0f} ms" if run.cpu else ""),
        flush=True,
    )
    if stages and run.stages:
        marks = sorted(run.stages.items(), key=lambda item: item[1])
        print("    " + " ".join(f"{label}@{at * 1000:.1f}" for label, at in marks), flush=True)


def _print_stages(runs: list[Run]) -> None:
    """Median ms after Enter of each traced mark, with the server's receipt and first token
    sent and the first token drawn among them, in the order they happen."""
    stamps: dict[str, list[float]] = {}
    for run in runs:
        marks = {
            **run.stages,
            "server:received": run.served.received - run.start,
            "server:first-token": run.served.sent[0] - run.start,
            "drawn": run.first_token,
        }
        for label, at in marks.items():
            stamps.setdefault(label, []).append(at * 1000)
    if len(stamps) <= 3:
        return  # a tree without the marks
    ordered = sorted(stamps.items(), key=lambda item: statistics.median(item[1]))
    print("  Enter -> first token, traced (median ms after Enter; n = runs that reached it):")
    for label, values in ordered:
        print(f"    {statistics.median(values):6.1f}  {label} (n={len(values)})")


def _run(args: argparse.Namespace, server: Server, tmp: Path) -> int:
    from bench.startup import BARE_APP, BARE_MARKER

    config = tmp / "config.toml"
    config.write_text(
        f'[[servers]]\nname = "{SERVER_NAME}"\nbase_url = "{server.base_url}"\n\n'
        f"[sampling]\nmax_new_tokens = {args.tokens}\n"
    )
    variants = [_variant("localai-tui", ROOT, config, tmp)]
    if args.compare:
        variants.append(_variant("compared", Path(args.compare).resolve(), config, tmp))
    print(
        f"server: {args.rate:.0f} tok/s paced, {args.ttft_ms:.0f} ms to first token, "
        f"{args.tokens} tokens per answer; load avg {os.getloadavg()[0]:.2f}"
        + (f"; compared: {args.compare}" if args.compare else ""),
        flush=True,
    )

    bare_app = tmp / "bare.py"
    bare_app.write_text(BARE_APP)
    bare_launches: list[tuple[float, float]] = []
    for launch in range(args.launches):  # interleaved, the order rotating each time
        order: list[Variant | None] = [None, *variants]
        shift = launch % len(order)
        line = []
        for variant in order[shift:] + order[:shift]:
            if variant is None:
                bare_launches.append(
                    first_frame([sys.executable, str(bare_app)], BARE_MARKER, variants[0].env)
                )
                wall, cpu = bare_launches[-1]
                line.append(f"bare Textual {wall * 1000:5.0f} ms (CPU {cpu * 1000:3.0f})")
            else:
                variant.launches.append(
                    first_frame(_argv(variant.root), FIRST_FRAME_MARKER, variant.env)
                )
                wall, cpu = variant.launches[-1]
                line.append(f"{variant.label} {wall * 1000:5.0f} ms (CPU {cpu * 1000:3.0f})")
        print(f"  launch {launch + 1}: " + "  ".join(line), flush=True)

    bares: list[Run] = []
    rng = random.Random(7)
    try:
        for variant in variants:
            variant.app = AppInPty(_argv(variant.root), variant.env)
            variant.app.wait_for(READY_MARKER)
        for variant in variants:
            assert variant.app is not None
            variant.app.drain(1.5)
            variant.idle_rss = variant.app.rss_mb()
        for round_ in range(args.runs):
            order = [*variants, None]
            shift = round_ % len(order)
            for variant in order[shift:] + order[:shift]:
                if variant is None:
                    bares.append(bare_run(server, args.tokens))
                    _print_run("bare client", round_, bares[-1])
                else:
                    assert variant.app is not None
                    trace = Path(variant.env["LOCALAI_TUI_TRACE"])
                    variant.runs.append(app_run(variant.app, server, args.tokens, rng, trace))
                    _print_run(variant.label, round_, variant.runs[-1], args.stages)
        for variant in variants:
            assert variant.app is not None
            variant.app.drain(1.0)
            variant.after_rss = variant.app.rss_mb()
    finally:
        for variant in variants:
            if variant.app is not None:
                variant.app.close()

    med = statistics.median
    bare_ratios = [r.rate / r.server_rate for r in bares]
    bare_first = med([r.first_token for r in bares])
    bare_launch = med([wall for wall, _ in bare_launches])
    bare_cpu = med([cpu for _, cpu in bare_launches])
    print()
    print(f"bare client ÷ server, per run : {min(bare_ratios):.3f}–{max(bare_ratios):.3f}")
    print(f"bare client first token       : {bare_first * 1000:.0f} ms (median)")
    print(
        f"bare Textual app first frame  : {bare_launch * 1000:.0f} ms (median),"
        f" {bare_cpu * 1000:.0f} ms CPU"
    )
    for variant in variants:
        runs = variant.runs
        ratios = [r.rate / r.server_rate for r in runs]
        keys = [k for r in runs for k in r.keys]
        first = med([r.first_token for r in runs])
        launch = med([wall for wall, _ in variant.launches])
        launch_cpu = med([cpu for _, cpu in variant.launches])
        print()
        print(f"{variant.label} ({variant.root})")
        print(
            f"  tokens/s on screen ÷ server, per run : {min(ratios):.3f}–{max(ratios):.3f}"
            f" (median {med(ratios):.3f})   keep >= 0.98"
        )
        print(
            f"  Enter -> first token on screen       : {first * 1000:.0f} ms,"
            f" {(first - bare_first) * 1000:+.0f} ms over the bare client   target <= +20 ms"
        )
        print(
            f"  key latency while streaming          : p50 {percentile(keys, 0.5) * 1000:.0f} ms,"
            f" p95 {percentile(keys, 0.95) * 1000:.0f} ms (n={len(keys)})"
            "   target p95 <= 30 ms"
        )
        print(
            f"  launch -> first frame                : {launch * 1000:.0f} ms,"
            f" {launch / bare_launch:.2f} x the bare Textual app   target <= 500 ms and <= 1.2 x"
        )
        print(
            f"  CPU used by the first frame          : {launch_cpu * 1000:.0f} ms,"
            f" {launch_cpu / bare_cpu:.2f} x the bare Textual app's"
        )
        out = med([r.served.received - r.start for r in runs]) * 1000
        bare_out = med([r.served.received - r.start for r in bares]) * 1000
        print(
            f"  Enter -> request at the server       : {out:.0f} ms"
            f" (bare client: {bare_out:.0f} ms from its call)"
        )
        _print_stages(runs)
        first_lag = med([r.lags[0] for r in runs]) * 1000
        last_lag = med([r.lags[1] for r in runs]) * 1000
        print(
            f"  screen behind the server             : first token {first_lag:.0f} ms,"
            f" last token {last_lag:.0f} ms (the tok/s ratio is span ÷ span)"
        )
        print(
            f"  app CPU per answer (all threads)     : {med([r.cpu for r in runs]) * 1000:.0f} ms"
            f" for {len(runs[0].shown)} tokens and the keys typed meanwhile"
        )
        print(
            f"  idle RSS with the remote model       : {variant.idle_rss:.0f} MB at start,"
            f" {variant.after_rss:.0f} MB after {len(runs)} answers   keep <= 80 MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
