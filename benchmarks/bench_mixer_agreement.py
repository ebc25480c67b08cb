"""Largest deviations of the mixer families' fast forms from their plain recurrences.

    python benchmarks/bench_mixer_agreement.py [--layers 5]

For each family of ``tests/test_mixer_layers.py`` (SSD, LRU, GLA, RetNet, Hyena), over
``--layers`` random layers and inputs of 13, 24, 100 and 256 tokens: the largest absolute
difference between ``forward`` and ``recurrent`` (and relative to the largest output),
the largest change of an output before t0 when the tokens from t0 = T / 2 on are redrawn
(causality: 0 for the exact forms, rounding for FFTs), and the largest deviation after
shifting the input behind 7 zero tokens (equivariance).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_mixer_layers import FAMILIES, WIDTH, _inputs, _layer  # noqa: E402

SHAPES = ((3, 13), (40, 24), (2, 100), (2, 256))   # (sequences, tokens)
SHIFT = 7


def deviations(family: str, n_layers: int) -> dict:
    worst = {"abs": 0.0, "rel": 0.0, "causal": 0.0, "shift": 0.0}
    for seed in range(n_layers):
        layer = _layer(family, seed=seed)
        for N, T in SHAPES:
            u = _inputs(2, N, T, seed=seed + 10)
            with torch.no_grad():
                fast, reference = layer(u), layer.recurrent(u)
                diff = (fast - reference).abs().max().item()
                worst["abs"] = max(worst["abs"], diff)
                worst["rel"] = max(worst["rel"], diff / reference.abs().max().item())
                t0 = T // 2
                changed = u.clone()
                changed[:, :, t0:] = torch.randn_like(changed[:, :, t0:])
                worst["causal"] = max(worst["causal"],
                                      (layer(changed)[:, :, :t0] - fast[:, :, :t0]).abs().max().item())
                shifted = torch.cat([torch.zeros(2, N, SHIFT, WIDTH), u], 2)
                worst["shift"] = max(worst["shift"],
                                     (layer(shifted)[:, :, SHIFT:] - fast).abs().max().item())
    return worst


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"{'family':<8} {'max |fast - recurrent|':>23} {'relative':>9} {'causality':>10} "
          f"{'shift ' + str(SHIFT):>9}")
    for family in FAMILIES:
        w = deviations(family, args.layers)
        print(f"{family:<8} {w['abs']:>23.1e} {w['rel']:>9.1e} {w['causal']:>10.1e} "
              f"{w['shift']:>9.1e}")


if __name__ == "__main__":
    main()
