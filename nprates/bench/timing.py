"""Timing helpers shared by the benchmarks: warm-up, repeats, median, machine description."""

from __future__ import annotations

import os
import platform
import statistics
import time

import numpy as np
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


def layer_scaling(layers: dict, lengths, batch: int, width: int, key: str, repeats: int = 5,
                  device="cpu") -> tuple[list[dict], dict]:
    """Median forward+backward seconds of each layer at each length L, and the log-log
    slope of time in L per layer.

    ``layers``: {name: module} taking (1 replicate, ``batch`` sequences, L tokens,
    ``width`` channels), float32. Returns (rows [{key: name, "length", "seconds"}],
    {name: slope}).
    """
    rows = []
    for length in lengths:
        x = torch.randn(1, batch, length, width, device=device, requires_grad=True)
        for name, layer in layers.items():
            t = median_time(_backward_step(layer, x), repeats=repeats, warmup=1, device=device)
            rows.append({key: name, "length": length, "seconds": t["median"]})
    slopes = {}
    for name in layers:
        times = [r["seconds"] for r in rows if r[key] == name]
        slopes[name] = float(np.polyfit(np.log(lengths), np.log(times), 1)[0])
    return rows, slopes


def _backward_step(layer, x):
    def run():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        layer(x).square().mean().backward()
    return run


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
