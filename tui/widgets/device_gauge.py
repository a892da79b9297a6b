"""A compact, always-visible gauge: system RAM, this app's RSS and each engine host's, CPU,
and each GPU's VRAM.

Two rows plus one per GPU (three or more GPUs share rows), so it fits an 80x24 terminal
beside a chat. Sampling runs in a thread worker on a timer and reaches the widget as a
`DeviceGauge.Sampled` message: the UI thread never waits on psutil or NVML.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from textual import on, work
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from backends.base import MemoryFootprint
from backends.device import DeviceMonitor, DeviceSnapshot, GpuSample

_HISTORY = 120  # samples kept for the sparklines (two minutes at 1 Hz)
_BAR = 10  # cells per bar
_SPARK_MAX = 40
_BLOCKS = " ▏▎▍▌▋▊▉█"
_SPARKS = "▁▂▃▄▅▆▇█"

ContentPart = tuple[str, str] | str | Content


class DeviceGauge(Widget):
    """RAM / CPU / VRAM bars with short sparklines, and which model holds how much memory.

    `monitor` defaults to a real `DeviceMonitor` (closed when the gauge unmounts); tests
    pass a subclass returning fixed numbers.
    """

    DEFAULT_CSS = """
    DeviceGauge {
        height: auto;
        max-height: 6;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    @dataclass
    class Sampled(Message):
        """A fresh reading of the machine (posted from the sampling thread)."""

        snapshot: DeviceSnapshot | None
        error: str | None = None

    def __init__(
        self,
        monitor: DeviceMonitor | None = None,
        interval: float = 1.0,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._owns_monitor = monitor is None
        self._monitor = monitor if monitor is not None else DeviceMonitor()
        self._interval = interval
        self._timer: Timer | None = None
        self._sampling = False
        self._snapshot: DeviceSnapshot | None = None
        self._error: str | None = None
        self._cpu_history: deque[float] = deque(maxlen=_HISTORY)
        self._rss_history: deque[float] = deque(maxlen=_HISTORY)
        self._vram_history: dict[int, deque[float]] = {}
        self._model_label: str | None = None
        self._model_footprint: MemoryFootprint | None = None

    @property
    def snapshot(self) -> DeviceSnapshot | None:
        """The latest reading shown, or None before the first one arrives."""
        return self._snapshot

    def set_model_usage(self, label: str | None, footprint: MemoryFootprint | None) -> None:
        """Show which model is loaded and what it holds; `label=None` clears it.

        e.g. `set_model_usage("SmolLM2 135M · llama.cpp", MemoryFootprint(ram_bytes=92_000_000))`.
        """
        self._model_label = label
        self._model_footprint = footprint
        self.refresh(layout=True)

    # -- sampling ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._tick()
        self._timer = self.set_interval(self._interval, self._tick, name="device-gauge")

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self._owns_monitor:
            self._monitor.close()

    def sample_now(self) -> None:
        """Take a reading now, e.g. right after a model unloads, not at the next tick."""
        self._tick()

    def _tick(self) -> None:
        # A slow sample (a GPU driver hiccup) must not pile up threads behind it.
        if self._sampling:
            return
        self._sampling = True
        self._sample()

    @work(thread=True, exit_on_error=False, group="device-gauge", name="device sample")
    def _sample(self) -> None:
        try:
            snapshot = self._monitor.sample()
        except Exception as error:  # never let a sensor failure reach the app's error handler
            self.post_message(self.Sampled(None, f"Device monitor failed: {error}"))
        else:
            self.post_message(self.Sampled(snapshot))

    @on(Sampled)
    def _show_sample(self, message: Sampled) -> None:
        self._sampling = False
        error_changed = message.error != self._error
        self._error = message.error
        snapshot = message.snapshot
        if snapshot is None:
            self.refresh(layout=error_changed)
            return
        previous = self._snapshot
        # Only a change in the number of rows needs a new layout; most ticks just repaint.
        rows_changed = (
            error_changed
            or previous is None
            or len(previous.gpus) != len(snapshot.gpus)
            or previous.gpu_note != snapshot.gpu_note
        )
        self._snapshot = snapshot
        self._cpu_history.append(snapshot.cpu_percent / 100)
        self._rss_history.append(snapshot.tree_rss / max(snapshot.ram_total, 1))
        for gpu in snapshot.gpus:
            history = self._vram_history.setdefault(gpu.index, deque(maxlen=_HISTORY))
            history.append(gpu.memory_used / max(gpu.memory_total, 1))
        self.refresh(layout=rows_changed)

    # -- rendering ---------------------------------------------------------------------------

    def render(self) -> Content:
        width = max(self.content_size.width, 20)
        snapshot = self._snapshot
        if snapshot is None:
            first = self._error or "Reading RAM, CPU and GPUs…"
            return Content.assemble((first, "$text-muted"))
        lines = [self._system_line(snapshot, width), self._process_line(snapshot, width)]
        lines.extend(self._gpu_lines(snapshot, width))
        if self._error:
            lines.append(Content.assemble((self._error, "$text-error")))
        return Content("\n").join(lines)

    def _system_line(self, snapshot: DeviceSnapshot, width: int) -> Content:
        ram = snapshot.ram_used / max(snapshot.ram_total, 1)
        parts: list[ContentPart] = [
            ("RAM ", "bold"),
            *_bar(ram),
            f" {_pair(snapshot.ram_used, snapshot.ram_total)}",
            ("   CPU ", "bold"),
            *_bar(snapshot.cpu_percent / 100),
            f" {snapshot.cpu_percent:3.0f}%",
        ]
        return _with_spark(parts, self._cpu_history, width)

    def _process_line(self, snapshot: DeviceSnapshot, width: int) -> Content:
        parts: list[ContentPart] = [("App ", "bold"), f"{_size(snapshot.process_rss)} RSS"]
        if snapshot.mps_allocated:  # Apple silicon: torch's unified-memory allocation
            parts.append(f" + {_size(snapshot.mps_allocated)} MPS")
        spark = _with_spark([], self._rss_history, 12, relative=True)
        if spark.cell_length:
            parts += ["  ", spark]
        parts.append(("  ·  ", "$text-muted"))
        if self._model_label is None:
            parts.append(("no model loaded", "$text-muted"))
        else:
            parts.append((self._model_label, "$text-primary"))
            usage = _footprint_text(self._model_footprint)
            if usage and not snapshot.hosts:  # in-process engines: the engine's own count
                parts.append(f" · {usage}")
        for host in snapshot.hosts:  # each engine process, read every sample
            vram = f" + {_size(host.vram_bytes)} VRAM" if host.vram_bytes else ""
            parts += [("  ·  ", "$text-muted"), f"{host.label} host {_size(host.rss_bytes)}{vram}"]
        return Content.assemble(*parts).truncate(width, ellipsis=True)

    def _gpu_lines(self, snapshot: DeviceSnapshot, width: int) -> list[Content]:
        if not snapshot.gpus:
            note = snapshot.gpu_note or "No GPU"
            return [Content.assemble(("GPU ", "bold"), (note, "$text-muted"))]
        lines: list[Content] = []
        if len(snapshot.gpus) <= 2:
            for gpu in snapshot.gpus:
                lines.append(self._gpu_line(gpu, snapshot, width))
        else:
            # Many GPUs: one short cell each, packed into as few rows as fit.
            row: list[Content] = []
            for gpu in snapshot.gpus:
                cell = _gpu_cell(gpu)
                used = sum(c.cell_length + 2 for c in row)
                if row and used + cell.cell_length > width:
                    lines.append(Content("  ").join(row))
                    row = []
                row.append(cell)
            if row:
                lines.append(Content("  ").join(row))
        if snapshot.gpu_note:
            lines.append(Content.assemble((snapshot.gpu_note, "$text-warning")))
        return lines

    def _gpu_line(self, gpu: GpuSample, snapshot: DeviceSnapshot, width: int) -> Content:
        parts = _gpu_parts(gpu, compact=False)
        mine = gpu.process_memory or snapshot.torch_allocated.get(f"cuda:{gpu.index}")
        if mine:
            parts.append((f" app {_size(mine)}", "$text-primary"))
        parts.append((f" {gpu.name}", "$text-muted"))
        history = self._vram_history.get(gpu.index, deque())
        return _with_spark(parts, history, width)


def _bar(fraction: float, cells: int = _BAR) -> list[ContentPart]:
    """A bar in eighth-blocks, coloured by how full it is."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * cells * 8)
    full, rest = divmod(eighths, 8)
    filled = "█" * full + (_BLOCKS[rest] if rest else "")
    empty = " " * (cells - len(filled))
    return [(filled, f"{_load_style(fraction)} on $boost"), (empty, "on $boost")]


def _with_spark(
    parts: list[ContentPart], history: deque[float], width: int, *, relative: bool = False
) -> Content:
    """`parts` followed by as much sparkline as fits in `width`."""
    head = Content.assemble(*parts)
    room = min(width - head.cell_length - 2, _SPARK_MAX) if parts else width
    if room < 4 or len(history) < 2:
        return head.truncate(width, ellipsis=True)
    values = list(history)[-room:]
    low, high = (min(values), max(values)) if relative else (0.0, 1.0)
    # Relative lines show change (a model loading or unloading), but a few MB of allocator
    # noise must not look like a cliff: the scale spans at least a tenth of the peak.
    span = max(high - low, high * 0.1) or 1.0
    spark = "".join(
        _SPARKS[min(int((v - low) / span * (len(_SPARKS) - 1) + 0.5), len(_SPARKS) - 1)]
        for v in values
    )
    if not parts:
        return Content.assemble((spark, "$accent"))
    return Content.assemble(head, "  ", (spark, "$accent"))


def _gpu_cell(gpu: GpuSample) -> Content:
    return Content.assemble(*_gpu_parts(gpu, compact=True))


def _gpu_parts(gpu: GpuSample, *, compact: bool) -> list[ContentPart]:
    """Label, VRAM bar and figures, utilisation, temperature; `compact` for many-GPU rows."""
    fraction = gpu.memory_used / max(gpu.memory_total, 1)
    if compact:
        memory = f" {gpu.memory_used / 1e9:.0f}/{gpu.memory_total / 1e9:.0f}G"
    else:
        memory = f" {_pair(gpu.memory_used, gpu.memory_total)}"
    parts: list[ContentPart] = [
        (f"GPU{gpu.index} ", "bold"),
        *_bar(fraction, cells=5 if compact else _BAR),
        memory,
    ]
    if gpu.utilization_percent is not None:
        parts.append(f" {gpu.utilization_percent:3.0f}%")
    if gpu.temperature_c is not None:
        degrees = "°" if compact else "°C"
        parts.append((f" {gpu.temperature_c:.0f}{degrees}", _heat_style(gpu.temperature_c)))
    return parts


def _load_style(fraction: float) -> str:
    if fraction >= 0.9:
        return "$error"
    if fraction >= 0.7:
        return "$warning"
    return "$success"


def _heat_style(celsius: float) -> str:
    if celsius >= 85:
        return "$text-error"
    if celsius >= 75:
        return "$text-warning"
    return ""


def _footprint_text(footprint: MemoryFootprint | None) -> str:
    if footprint is None:
        return ""
    parts = []
    if footprint.ram_bytes:
        parts.append(f"{_size(footprint.ram_bytes)} RAM")
    if footprint.vram_bytes:
        parts.append(f"{_size(footprint.vram_bytes)} VRAM")
    return " + ".join(parts)


def _size(count: int) -> str:
    """Decimal units, as file managers and `hf download` show sizes: 92 MB, 1.4 GB."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit in ("B", "KB", "MB") else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def _pair(used: int, total: int) -> str:
    """Used over total in the unit of the total, so the two line up: "9.1/24.0 GB"."""
    unit, scale = ("GB", 1e9) if total >= 1e9 else ("MB", 1e6)
    return f"{used / scale:.1f}/{total / scale:.1f} {unit}"
