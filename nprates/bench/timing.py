"""Timing helpers shared by the benchmarks: warm-up, repeats, median, machine description."""

from __future__ import annotations

import os
import platform
import statistics
import time

import torch


def synchronize(device) -> None:
    """Wait for queued CUDA work, so wall times cover it; a no-op on CPU."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def median_time(fn, repeats: int = 5, warmup: int = 1, device="cpu") -> dict:
    """Run ``fn()`` ``warmup`` times untimed, then ``repeats`` times.

    Returns {"median": s, "min": s, "times": [s, ...]} in seconds.
    """
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return {"median": statistics.median(times), "min": min(times), "times": times}


def machine() -> dict:
    """What the figures were measured on: CPU, cores, GPU, library versions."""
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.cuda.is_available(),
    }
    try:
        with open("/proc/cpuinfo") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        if names:
            info["processor"] = names[0]
    except OSError:
        pass
    if info["cuda"]:
        info["gpu"] = torch.cuda.get_device_name(0)
        info["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2 ** 30, 1)
    return info
