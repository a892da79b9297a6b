"""DeviceGauge in a small app: real readings, the no-GPU line, model usage, and a fixed picture."""

from __future__ import annotations

import re

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static

from backends.base import MemoryFootprint
from backends.device import DeviceMonitor, DeviceSnapshot, GpuSample
from tui.widgets.device_gauge import DeviceGauge


class FixedMonitor(DeviceMonitor):
    """A stand-in for the hardware: the same numbers every time, so pictures are stable."""

    def __init__(self, gpus: int = 1) -> None:
        super().__init__()
        self.gpu_count = gpus
        self.samples = 0

    def sample(self) -> DeviceSnapshot:
        self.samples += 1
        gpus = tuple(
            GpuSample(
                index=i,
                name="NVIDIA H100 80GB HBM3",
                memory_used=12_300_000_000,
                memory_total=85_000_000_000,
                utilization_percent=45.0,
                temperature_c=61.0,
                process_memory=2_100_000_000,
            )
            for i in range(self.gpu_count)
        )
        return DeviceSnapshot(
            ram_used=9_100_000_000,
            ram_total=24_000_000_000,
            process_rss=412_000_000,
            cpu_percent=23.0,
            gpus=gpus,
            torch_allocated={},
            mps_allocated=None,
            gpu_note=None,
        )


class GaugeApp(App[None]):
    def __init__(self, monitor: DeviceMonitor | None = None, interval: float = 3600) -> None:
        super().__init__()
        self.monitor = monitor
        self.interval = interval

    def compose(self) -> ComposeResult:
        yield Static("chat goes here", id="chat")
        yield DeviceGauge(self.monitor, interval=self.interval)


async def _first_sample(app: App[None], pilot: Pilot[None]) -> DeviceGauge:
    gauge = app.query_one(DeviceGauge)
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert gauge.snapshot is not None
    return gauge


async def test_shows_real_ram_and_no_gpu_line() -> None:
    app = GaugeApp()
    async with app.run_test(size=(120, 40)) as pilot:
        gauge = await _first_sample(app, pilot)
        text = gauge.render().plain
        match = re.search(r"RAM \S* *(\d+\.\d)/(\d+\.\d) GB", text)
        assert match, text
        used, total = float(match[1]), float(match[2])
        assert 0 < used <= total
        assert abs(total - gauge.snapshot.ram_total / 1e9) < 0.1  # type: ignore[union-attr]
        # The test process itself: past 1 GB after a few hundred tests ("App 1.0 GB RSS").
        assert re.search(r"App [\d.]+ [MG]B RSS", text), text
        assert "CPU" in text
        if not gauge.snapshot.gpus:  # type: ignore[union-attr]
            assert "GPU No NVIDIA GPU" in text
        assert "no model loaded" in text


async def test_model_usage_label_appears_and_clears() -> None:
    app = GaugeApp(FixedMonitor())
    async with app.run_test(size=(120, 40)) as pilot:
        gauge = await _first_sample(app, pilot)
        gauge.set_model_usage(
            "SmolLM2 135M · llama.cpp", MemoryFootprint(ram_bytes=92_000_000, vram_bytes=0)
        )
        await pilot.pause()
        assert "SmolLM2 135M · llama.cpp · 92 MB RAM" in gauge.render().plain
        gauge.set_model_usage(None, None)
        await pilot.pause()
        assert "no model loaded" in gauge.render().plain


async def test_gpu_line_shows_vram_util_temp_and_this_process() -> None:
    app = GaugeApp(FixedMonitor(gpus=1))
    async with app.run_test(size=(120, 40)) as pilot:
        gauge = await _first_sample(app, pilot)
        gpu_line = gauge.render().plain.splitlines()[2]
        assert gpu_line.startswith("GPU0 ")
        for piece in ("12.3/85.0 GB", "45%", "61°C", "app 2.1 GB", "H100"):
            assert piece in gpu_line


async def test_fits_an_80x24_terminal_with_many_gpus() -> None:
    app = GaugeApp(FixedMonitor(gpus=8))
    async with app.run_test(size=(80, 24)) as pilot:
        gauge = await _first_sample(app, pilot)
        assert gauge.size.height <= 6
        lines = gauge.render().plain.splitlines()
        assert all(len(line) <= 78 for line in lines), lines
        assert sum(line.count("GPU") for line in lines) == 8


async def test_ticks_keep_sampling_in_a_worker_and_grow_history() -> None:
    monitor = FixedMonitor(gpus=0)
    app = GaugeApp(monitor, interval=0.01)
    async with app.run_test(size=(120, 40)) as pilot:
        gauge = await _first_sample(app, pilot)
        while monitor.samples < 4:
            await app.workers.wait_for_complete()
            await pilot.pause(0.02)
        # With two or more samples a sparkline follows the CPU percentage.
        first_line = gauge.render().plain.splitlines()[0]
        assert "▃▃" in first_line


def test_snapshot_one_gpu_with_model(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """80x24: a chat placeholder above a three-row gauge — RAM 9.1/24.0 GB and CPU 23 % bars,
    "App 412 MB RSS · SmolLM2 135M · llama.cpp · 92 MB RAM", and GPU0 12.3/85.0 GB 45% 61°C."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        pilot.app.query_one(DeviceGauge).set_model_usage(
            "SmolLM2 135M · llama.cpp", MemoryFootprint(ram_bytes=92_000_000)
        )
        await pilot.pause()

    class DockedApp(GaugeApp):
        CSS = "DeviceGauge { dock: bottom; }"

    assert snap_compare(DockedApp(FixedMonitor(gpus=1)), run_before=run_before)


class UnloadingMonitor(FixedMonitor):
    """RSS of 900 MB for two samples, then 100 MB: a model was unloaded."""

    def sample(self) -> DeviceSnapshot:
        snapshot = super().sample()
        rss = 900_000_000 if self.samples <= 2 else 100_000_000
        return DeviceSnapshot(**{**snapshot.__dict__, "process_rss": rss})


async def test_freed_memory_shows_as_a_falling_rss_sparkline() -> None:
    monitor = UnloadingMonitor(gpus=0)
    app = GaugeApp(monitor)
    async with app.run_test(size=(120, 40)) as pilot:
        gauge = await _first_sample(app, pilot)
        for _ in range(2):
            gauge.sample_now()
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert monitor.samples == 3
        process_line = gauge.render().plain.splitlines()[1]
        assert "App 100 MB RSS  ██▁" in process_line


class AppleMonitor(FixedMonitor):
    def sample(self) -> DeviceSnapshot:
        snapshot = super().sample()
        return DeviceSnapshot(
            **{**snapshot.__dict__, "mps_allocated": 1_400_000_000, "gpu_note": "No NVIDIA GPU"}
        )


async def test_apple_mps_allocation_is_shown() -> None:
    app = GaugeApp(AppleMonitor(gpus=0))
    async with app.run_test(size=(120, 40)) as pilot:
        gauge = await _first_sample(app, pilot)
        lines = gauge.render().plain.splitlines()
        assert lines[1].startswith("App 412 MB RSS + 1.4 GB MPS")
        assert lines[2] == "GPU No NVIDIA GPU"


class HostedMonitor(FixedMonitor):
    """The same machine with a llama.cpp engine host holding 270 MB and 1.5 GB of VRAM."""

    def sample(self) -> DeviceSnapshot:
        from dataclasses import replace

        from backends.host.client import HostInfo

        host = HostInfo(
            pid=4242, label="llama.cpp", rss_bytes=270_000_000, vram_bytes=1_500_000_000
        )
        return replace(super().sample(), hosts=(host,))


async def test_each_engine_host_shows_its_own_memory() -> None:
    app = GaugeApp(HostedMonitor(gpus=0))
    async with app.run_test(size=(120, 40)) as pilot:
        gauge = await _first_sample(app, pilot)
        # The footprint the engine reported at load time gives way to the live host reading.
        gauge.set_model_usage("SmolLM2 · llama.cpp", MemoryFootprint(ram_bytes=99_000_000))
        await pilot.pause()
        text = gauge.render().plain
        assert "App 412 MB RSS" in text
        assert "SmolLM2 · llama.cpp" in text
        assert "llama.cpp host 270 MB + 1.5 GB VRAM" in text
        assert "99 MB" not in text
        assert gauge.snapshot is not None and gauge.snapshot.tree_rss == 682_000_000
