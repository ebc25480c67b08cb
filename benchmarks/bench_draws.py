"""Coverage of the class and conditional intervals over target draws
(``nprates.analysis.simulate.estimand_coverage``), and the plateau threshold's bias bound.

    python benchmarks/bench_draws.py [--n-sim 2000] [--json PATH]

Coverage: paired log risk ratios at n = 689, 1485, 3200 (the common range of the
published study), noise sd 0.2 per cell, per-draw exponents with sd 0.05 around 0, for
8 to 100 draws and 1 or 2 replicates; nominal 95%. Plateau: the largest bias of the
log-log exponent fitted from the first size with r / R0 <= tau on, for a curve leaving
its plateau R0 as r = (R0^-p + (C n^-b)^-p)^(-1/p) over the published grid (7 sizes,
32..3200), every position of the exit (``nprates.analysis.layout`` PLATEAU_LEVEL).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from nprates.analysis.simulate import estimand_coverage

GRID = np.array([32, 69, 149, 320, 689, 1485, 3200.0])


def plateau_bias(tau: float, b: float, p: float) -> float:
    """Largest downward bias of the fitted exponent over exit positions."""
    x = np.log(GRID)
    worst = 0.0
    for ln0 in np.linspace(np.log(3), np.log(3200), 400):
        r = (1 + (GRID / np.exp(ln0)) ** (b * p)) ** (-1 / p)
        keep = r <= tau
        if keep.sum() >= 3:
            worst = max(worst, b + np.polyfit(x[keep], np.log(r[keep]), 1)[0])
    return float(worst)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sim", type=int, default=2000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    rows = []
    print(f"{'draws':>6} {'reps':>5} {'class cov':>10} {'(se)':>7} {'given cov':>10} "
          f"{'half-width':>11}")
    for draws in (8, 15, 30, 60, 100):
        for reps in (1, 2):
            r = estimand_coverage(draws, reps, n_sim=args.n_sim, seed=draws * 10 + reps)
            rows.append(r)
            print(f"{draws:>6} {reps:>5} {r['class_coverage']:>10.4f} {r['class_se']:>7.4f} "
                  f"{r['conditional_coverage']:>10.4f} {r['class_half_width']:>11.4f}",
                  flush=True)
    bias = [{"tau": tau, "p": p, "b": b, "bias": plateau_bias(tau, b, p)}
            for p in (1, 2, 4) for b in (0.6, 2 / 3) for tau in (0.5, 0.3, 0.2, 0.15, 0.1)]
    print("\nplateau threshold tau: largest bias of the exponent (b = 2/3)")
    for row in bias:
        if abs(row["b"] - 2 / 3) < 1e-9:
            print(f"  p = {row['p']}  tau = {row['tau']:<5g} bias {row['bias']:.3f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"coverage": rows, "plateau": bias}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
