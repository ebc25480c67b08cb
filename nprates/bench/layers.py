"""One SSM layer against one attention layer: forward + backward time as L grows."""

from __future__ import annotations

import torch

from nprates.estimators.attention_layer import CausalSelfAttention
from nprates.estimators.ssm_layer import S4DLayer
from nprates.bench.timing import layer_scaling

LENGTHS = (64, 256, 1024, 4096)


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
    rows, exponents = layer_scaling(layers, lengths, batch, width, "layer", repeats, device)
    at_max = {r["layer"]: r["seconds"] for r in rows if r["length"] == max(lengths)}
    return {"batch": batch, "width": width, "d_state": d_state, "n_heads": n_heads,
            "rows": rows, "exponents": exponents,
            "ratio_at_max": at_max["attention"] / at_max["ssm"]}
