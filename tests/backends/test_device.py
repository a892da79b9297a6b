"""DeviceMonitor against the real machine: psutil numbers, the no-GPU path, no torch import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backends.device import DeviceMonitor, DeviceSnapshot

ROOT = Path(__file__).resolve().parents[2]


def _has_nvidia_gpu() -> bool:
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return False
    try:
        return pynvml.nvmlDeviceGetCount() > 0
    finally:
        pynvml.nvmlShutdown()


def test_sample_reports_real_ram_cpu_and_rss() -> None:
    monitor = DeviceMonitor()
    try:
        snapshot = monitor.sample()
    finally:
        monitor.close()
    assert isinstance(snapshot, DeviceSnapshot)
    assert snapshot.ram_total > 0
    assert 0 < snapshot.ram_used <= snapshot.ram_total
    # This very interpreter has at least a few MB resident, and less than the whole machine.
    assert 5_000_000 < snapshot.process_rss < snapshot.ram_total
    assert 0.0 <= snapshot.cpu_percent <= 100.0


@pytest.mark.skipif(_has_nvidia_gpu(), reason="this machine has an NVIDIA GPU")
def test_no_gpu_gives_empty_gpus_and_a_note_and_is_cached() -> None:
    monitor = DeviceMonitor()
    try:
        first = monitor.sample()
        second = monitor.sample()
    finally:
        monitor.close()
    assert first.gpus == ()
    assert first.gpu_note is not None and "No NVIDIA GPU" in first.gpu_note
    assert second.gpu_note == first.gpu_note
    assert first.torch_allocated == {} or "torch" in sys.modules


@pytest.mark.skipif(not _has_nvidia_gpu(), reason="needs an NVIDIA GPU")
def test_gpu_sample_has_vram_numbers() -> None:
    monitor = DeviceMonitor()
    try:
        snapshot = monitor.sample()
    finally:
        monitor.close()
    assert snapshot.gpus, snapshot.gpu_note
    gpu = snapshot.gpus[0]
    assert gpu.memory_total > 0
    assert 0 <= gpu.memory_used <= gpu.memory_total
    assert gpu.name


def test_close_twice_and_sample_again() -> None:
    monitor = DeviceMonitor()
    monitor.sample()
    monitor.close()
    monitor.close()
    assert monitor.sample().ram_total > 0
    monitor.close()


def test_sampling_never_imports_torch_or_textual() -> None:
    code = textwrap.dedent(
        """
        import sys
        from backends.device import DeviceMonitor
        monitor = DeviceMonitor()
        for _ in range(3):
            snapshot = monitor.sample()
        monitor.close()
        assert snapshot.ram_total > 0
        print(sorted(m for m in ("torch", "textual", "rich") if m in sys.modules))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_torch_allocation_read_only_when_torch_already_imported() -> None:
    # With torch (CPU build) imported by someone else, sampling reads it without error;
    # there is no CUDA context here, so there is nothing allocated to report.
    code = textwrap.dedent(
        """
        import torch
        from backends.device import DeviceMonitor
        monitor = DeviceMonitor()
        snapshot = monitor.sample()
        monitor.close()
        print(snapshot.torch_allocated == {} or torch.cuda.is_initialized())
        print(torch.cuda.is_initialized())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    # Sampling must not create a CUDA context of its own.
    assert result.stdout.split() == ["True", "False"]
