"""One SSM layer against one attention layer: forward + backward time as L grows."""

from __future__ import annotations

import numpy as np
import torch

from nprates.estimators.attention_layer import CausalSelfAttention
from nprates.estimators.ssm_layer import S4DLayer
from nprates.bench.timing import median_time

LENGTHS = (64, 256, 1024, 4096)


def _step(layer, x):
    def run():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        layer(x).square().mean().backward()
    return run


def run(device="cpu", lengths=LENGTHS, batch: int = 4, width: int = 64, d_state: int = 16,
        n_heads: int = 4, repeats: int = 5) -> dict:
    """Median forward+backward seconds of each layer at each L, and log-log slopes in L.

    Input (1 replicate, ``batch`` sequences, L tokens, ``width`` channels), float32.
    Returns {"rows": [{layer, length, seconds}], "exponents": {layer: slope}, "ratio_at_max":
    attention time / SSM time at the largest L}.
    """
    torch.manual_seed(0)
    layers = {"ssm": S4DLayer(width, d_state=d_state).to(device),
              "attention": CausalSelfAttention(width, n_heads=n_heads).to(device)}
    rows = []
    for length in lengths:
        x = torch.randn(1, batch, length, width, device=device, requires_grad=True)
        for name, layer in layers.items():
            t = median_time(_step(layer, x), repeats=repeats, warmup=1, device=device)
            rows.append({"layer": name, "length": length, "seconds": t["median"]})
    exponents = {}
    for name in layers:
        times = [r["seconds"] for r in rows if r["layer"] == name]
        exponents[name] = float(np.polyfit(np.log(lengths), np.log(times), 1)[0])
    at_max = {r["layer"]: r["seconds"] for r in rows if r["length"] == max(lengths)}
    return {"batch": batch, "width": width, "d_state": d_state, "n_heads": n_heads,
            "rows": rows, "exponents": exponents,
            "ratio_at_max": at_max["attention"] / at_max["ssm"]}
