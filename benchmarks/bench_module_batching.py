"""What batching an arbitrary module's replicates with torch.func.vmap costs and saves.

    python benchmarks/bench_module_batching.py [--replicates 8] [--repeats 3]

1. A GRU written in plain torch (``TinyGRU``, width 16) fitted by ``ModuleRegressor`` for
   R replicates (n = 256 sequences of T = 16 tokens, 100 optimiser steps each, no early
   stopping): the R fits batched by vmap (``fit_replicates``), the R fits run as one batch
   one replicate at a time (``vmap=False``), and R separate ``fit`` calls.
2. The built-in SSM network (``SSMNetwork``, width 16, 2 layers, d_state 8): one forward
   and backward pass over R replicates x 64 sequences of 32 tokens, with its own
   replicate-batched layers against the same network built for one replicate and batched
   by vmap (``ReplicatedModule``).

Single-threaded; each figure is the median over ``--repeats`` after a warm-up, the
variants interleaved so that a busy machine slows them alike. Wall seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.base import clone

from nprates.estimators import ModuleRegressor, fit_replicates
from nprates.estimators.module_estimator import ReplicatedModule
from nprates.estimators.networks import SSMNetwork

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_module_estimator import make_gru  # noqa: E402  (the GRU of the tests)


def _median_seconds(variants: dict, repeats: int) -> dict:
    times = {name: [] for name in variants}
    for fn in variants.values():
        fn()                                           # warm-up
    for _ in range(repeats):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def gru_fits(R: int, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    Xs = [rng.uniform(size=(256, 16, 2)) for _ in range(R)]
    ys = [X[:, 8:, 0] + X[:, 6:14, 1] for X in Xs]
    est = ModuleRegressor(make_gru, 16, device="cpu", max_steps=100, patience=10 ** 6,
                          batch_size=64)
    seeds = list(range(R))
    return _median_seconds({
        "vmap batch": lambda: fit_replicates(est, Xs, ys, seeds),
        "loop batch": lambda: fit_replicates(clone(est).set_params(vmap=False), Xs, ys, seeds),
        "separate fits": lambda: [clone(est).set_params(random_state=s).fit(X, y)
                                  for X, y, s in zip(Xs, ys, seeds)],
    }, repeats)


class _OneReplicate(torch.nn.Module):
    """An SSMNetwork built for R = 1, as a module of (batch, T, d)."""

    def __init__(self):
        super().__init__()
        self.net = SSMNetwork(2, 1, width=16, n_layers=2, d_state=8, fnn_width=32)

    def forward(self, x):
        return self.net(x.unsqueeze(0))[0]


def ssm_steps(R: int, repeats: int) -> dict:
    torch.manual_seed(0)
    builtin = SSMNetwork(2, 1, width=16, n_layers=2, d_state=8, fnn_width=32, n_replicates=R)
    vmapped = ReplicatedModule(_OneReplicate, R)
    x = torch.rand(R, 64, 32, 2)

    def step(net):
        net.zero_grad()
        net(x).square().mean().backward()

    per_step = _median_seconds({"built-in layers": lambda: [step(builtin) for _ in range(10)],
                                "vmap": lambda: [step(vmapped) for _ in range(10)]}, repeats)
    return {name: seconds / 10 for name, seconds in per_step.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    R = args.replicates
    print(f"GRU (ModuleRegressor), {R} replicates x 100 steps, seconds per replicate:")
    for name, seconds in gru_fits(R, args.repeats).items():
        print(f"  {name:16s} {seconds / R:8.3f}")
    print(f"SSMNetwork, {R} replicates x 64 sequences x 32 tokens, forward+backward ms:")
    for name, seconds in ssm_steps(R, args.repeats).items():
        print(f"  {name:16s} {1000 * seconds:8.2f}")


if __name__ == "__main__":
    main()
