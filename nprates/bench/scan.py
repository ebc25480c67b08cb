"""The selective scan's two forms: forward + backward time as the sequence grows."""

from __future__ import annotations

import torch

from nprates.estimators.selective_ssm_layer import SCANS, selective_scan
from nprates.bench.timing import median_time

LENGTHS = (16, 64, 256)


def _step(inputs, scan, chunk_size):
    def run():
        for t in inputs:
            t.grad = None
        selective_scan(*inputs, scan=scan, chunk_size=chunk_size).square().mean().backward()
    return run


def run(device="cpu", lengths=LENGTHS, batch: int = 64, channels: int = 32, d_state: int = 16,
        chunk_size: int = 16, repeats: int = 3) -> dict:
    """Median forward+backward seconds of ``selective_scan`` for each scan form and length.

    Inputs: ``batch`` sequences of L tokens, H = ``channels``, N = ``d_state``, float32,
    random step sizes in [0.01, 0.51]. Returns {"batch", "channels", "d_state", "chunk_size",
    "rows": [{scan, length, seconds}], "fastest": {length: scan}}.
    """
    g = torch.Generator().manual_seed(0)
    rows = []
    for length in lengths:
        shape = (batch, length, channels)
        inputs = [torch.randn(shape, generator=g), torch.rand(shape, generator=g) * 0.5 + 0.01,
                  -torch.rand(channels, d_state, generator=g) - 0.1,
                  torch.randn(batch, length, d_state, generator=g),
                  torch.randn(batch, length, d_state, generator=g),
                  torch.ones(channels)]
        inputs = [t.to(device).requires_grad_(True) for t in inputs]
        for scan in SCANS:
            t = median_time(_step(inputs, scan, chunk_size), repeats=repeats, warmup=1,
                            device=device)
            rows.append({"scan": scan, "length": length, "seconds": t["median"]})
    fastest = {L: min((r for r in rows if r["length"] == L), key=lambda r: r["seconds"])["scan"]
               for L in lengths}
    return {"batch": batch, "channels": channels, "d_state": d_state, "chunk_size": chunk_size,
            "rows": rows, "fastest": fastest}
