"""One training step of the published networks in float32 and under bfloat16 autocast.

    python benchmarks/bench_autocast.py [--repeats 2] [--steps 20]

The networks at the published n = 689 widths (width 36, FNN width 72, 2 layers; the
Transformer with 2 heads), a batch of 128 sequences of 19 tokens with 2 features, and the
grid's two learning rates as R = 2 replicates, on one torch thread: forward under
``torch.autocast("cpu", dtype=torch.bfloat16)`` or not, loss and backward in float32,
fused AdamW. Prints milliseconds per step, the two precisions interleaved ``repeats``
times. Whether bfloat16 pays depends on the CPU (AVX512-BF16 or AMX instructions).
"""

from __future__ import annotations

import argparse
import time

import torch

from nprates.estimators.networks import SSMNetwork, TransformerNetwork

NETWORKS = {"ssm": (SSMNetwork, {}), "transformer": (TransformerNetwork, {"n_heads": 2})}


def step_ms(name: str, bf16: bool, steps: int, R: int = 2, batch: int = 128, T: int = 19) -> float:
    """Mean milliseconds of one training step after 3 warm-up steps."""
    cls, extra = NETWORKS[name]
    torch.manual_seed(0)
    x, y = torch.randn(R, batch, T, 2), torch.randn(R, batch, T, 1)
    net = cls(2, 1, width=36, fnn_width=72, n_layers=2, n_replicates=R, **extra)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = net(x)
        ((out.float() - y) ** 2).mean().backward()
        opt.step()

    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for name in NETWORKS:
        for _ in range(args.repeats):
            fp32, bf16 = (step_ms(name, b, args.steps) for b in (False, True))
            print(f"{name:12s} float32 {fp32:6.1f} ms  bfloat16 autocast {bf16:6.1f} ms  "
                  f"({fp32 / bf16:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
