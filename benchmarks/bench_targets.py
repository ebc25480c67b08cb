"""Target evaluation speed: a GammaSmooth with about 3,000 basis functions.

    python benchmarks/bench_targets.py [--sequences 10000] [--length 64]

Prints the number of basis functions, the wall time and the throughput of evaluating
the target on uniform tokens (n sequences x length tokens x d = 2), median of repeats.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from nprates import GammaSmooth, PiecewiseGammaSmooth, Smoothness


def time_target(target, n: int, length: int, repeats: int = 3) -> dict:
    """Median wall time of ``target(X)`` on n sequences of ``length`` tokens."""
    X = target.sample(n, length - target.burn_in, rng=0)[0]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        target(X)
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {"n_basis": target.n_basis, "sequences": n, "length": length, "seconds": seconds,
            "sequences_per_second": n / seconds}


def standard_targets() -> dict:
    """The two benchmark targets: ~3,000 basis functions each, d = 2 content features."""
    spec = Smoothness("mixed", a0=1.0, alpha=1.0, features=2, window=4, seed=0)
    return {
        "GammaSmooth": GammaSmooth(spec, t_max=9, seed=0),
        "PiecewiseGammaSmooth": PiecewiseGammaSmooth(spec, window=16, t_max=9, seed=0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name, target in standard_targets().items():
        r = time_target(target, args.sequences, args.length, args.repeats)
        print(f"{name}: {r['n_basis']} basis functions, {r['sequences']} sequences x "
              f"{r['length']} tokens: {r['seconds']:.2f} s "
              f"({r['sequences_per_second']:.0f} sequences/s)")


if __name__ == "__main__":
    main()
