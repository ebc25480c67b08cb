"""Cost per mixer family: one layer's forward + backward time as the sequence length grows.

Every family at the same width and batch, each in the form its network uses (S4D and
Hyena: Toeplitz product or FFT as ``ssm_layer`` chooses; LRU: FFT; SSD, GLA, RetNet and
the selective SSM: chunked scans; attention: explicit products or SDPA), so the table
says what a block of each family costs before it goes into a study. The log-log slope in
L summarises the scaling (about 1 for the convolutions and chunked scans, up to 2 for
attention).
"""

from __future__ import annotations

import torch

from nprates.bench.timing import layer_scaling
from nprates.estimators.attention_layer import CausalSelfAttention
from nprates.estimators.layers import Replicated
from nprates.estimators.mixer_network import MIXERS, make_mixer
from nprates.estimators.selective_ssm_layer import SelectiveSSMLayer
from nprates.estimators.ssm_layer import S4DLayer

LENGTHS = (16, 64, 256, 1024)
FAMILIES = ("s4d", "selective", "attention") + MIXERS


def make_layer(family: str, width: int, d_state: int, n_heads: int) -> torch.nn.Module:
    """One layer of ``family`` (``FAMILIES``) for one replicate."""
    if family == "s4d":
        return S4DLayer(width, d_state=d_state)
    if family == "selective":
        return Replicated(lambda: SelectiveSSMLayer(width, d_state), 1)
    if family == "attention":
        return CausalSelfAttention(width, n_heads=n_heads)
    return make_mixer(family, width, 1, d_state=d_state, n_heads=n_heads)


def run(device="cpu", lengths=LENGTHS, batch: int = 8, width: int = 32, d_state: int = 16,
        n_heads: int = 4, repeats: int = 5) -> dict:
    """Median forward+backward seconds of each family at each L, and log-log slopes in L.

    Input (1 replicate, ``batch`` sequences, L tokens, ``width`` channels), float32.
    Returns {"rows": [{family, length, seconds}], "exponents": {family: slope},
    "params": {family: parameters of one layer}, and the settings}.
    """
    torch.manual_seed(0)
    layers = {name: make_layer(name, width, d_state, n_heads).to(device) for name in FAMILIES}
    rows, exponents = layer_scaling(layers, lengths, batch, width, "family", repeats, device)
    return {"batch": batch, "width": width, "d_state": d_state, "n_heads": n_heads,
            "rows": rows, "exponents": exponents,
            "params": {name: sum(p.numel() for p in layer.parameters())
                       for name, layer in layers.items()}}


def format_section(r: dict, number: int) -> list[str]:
    """The section's lines for ``format_report``: milliseconds per family and L."""
    lengths = sorted({row["length"] for row in r["rows"]})
    lines = ["", f"{number}. mixer families, one layer forward+backward, batch {r['batch']}, "
                 f"width {r['width']}, d_state {r['d_state']}, {r['n_heads']} heads (ms)",
             "   " + f"{'family':<10}{'params':>8}" + "".join(f"{'L=' + str(L):>10}"
                                                          for L in lengths) + f"{'exponent':>10}"]
    for name in r["exponents"]:
        times = {row["length"]: row["seconds"] for row in r["rows"] if row["family"] == name}
        lines.append("   " + f"{name:<10}{r['params'][name]:>8}"
                     + "".join(f"{1000 * times[L]:>10.2f}" for L in lengths)
                     + f"{r['exponents'][name]:>10.2f}")
    return lines
