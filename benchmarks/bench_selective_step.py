"""One training step of the zoo's selective SSM network, in milliseconds.

    python benchmarks/bench_selective_step.py [--repeats 3] [--steps 10]

The selective network at the zoo's n = 506 widths (width 32, FNN width 64, 2 layers,
d_state 16, sequential scan) with R = 3 replicates, a batch of 128 sequences of 13 tokens
with 2 features, one torch thread: forward, MSE, backward and AdamW. Prints the lowest
mean over ``repeats`` runs of ``steps`` steps, after 3 warm-up steps. To compare two
versions of the code, run it in each checkout (each with its own install) in turn.
"""

from __future__ import annotations

import argparse
import time

import torch

from nprates.estimators.selective_network import SelectiveSSMNetwork


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    R, batch, T, features = 3, 128, 13, 2
    x, y = torch.randn(R, batch, T, features), torch.randn(R, batch, T, 1)
    net = SelectiveSSMNetwork(features, 1, width=32, fnn_width=64, n_layers=2, n_replicates=R)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()

    for _ in range(3):
        step()
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        best = min(best, (time.perf_counter() - start) / args.steps * 1000)
    print(f"selective network training step: {best:.1f} ms (lowest mean of {args.repeats} x "
          f"{args.steps} steps)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
