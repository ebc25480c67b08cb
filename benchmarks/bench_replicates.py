"""Replicate-batched training against sequential fits.

    python benchmarks/bench_replicates.py [--device cpu] [--quick] [--batch-size B]
                                          [--threads K] [--json PATH]

R = 8 replicates (own data and seed each) of one estimator at n = 1024 sequences of
L = 32 tokens (all scored) with d = 2 features, trained for a fixed number of steps
(early stopping off): once with ``fit_replicates`` (one batched computation), once as 8
sequential ``fit`` calls. For the 2-layer SSM and the 2-layer Transformer of width 32
(defaults otherwise) it reports both wall times, their ratio (the speed-up), the time
per step, and the largest difference between the two sets of predictions (the batched
results equal separate fits up to float rounding). ``run(device, quick)`` returns the
figures as a dict.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.base import clone  # noqa: E402

from estimators.neural import SSMRegressor, TransformerRegressor  # noqa: E402
from estimators.replicates import fit_replicates  # noqa: E402
from nprates.bench.timing import machine, synchronize  # noqa: E402

R, N, LENGTH, FEATURES, WIDTH = 8, 1024, 32, 2, 32


def _data(seed: int):
    """Uniform tokens; y_t = sin(2 pi x_{t-1,0}) x_{t,1} + noise (a smooth causal target)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(N, LENGTH, FEATURES))
    lagged = np.concatenate([np.zeros((N, 1)), X[:, :-1, 0]], axis=1)
    y = np.sin(2 * np.pi * lagged) * X[:, :, 1] + 0.1 * rng.standard_normal((N, LENGTH))
    return X, y


def _timed(fn, device):
    synchronize(device)
    start = time.perf_counter()
    out = fn()
    synchronize(device)
    return time.perf_counter() - start, out


def run(device: str = "cpu", quick: bool = False, batch_size: int | None = None,
        repeats: int | None = None) -> dict:
    """Time batched against sequential training; returns the figures as a dict."""
    steps = 20 if quick else 150
    repeats = repeats or (1 if quick else 2)
    data = [_data(seed) for seed in range(R)]
    Xs, ys = [X for X, _ in data], [y for _, y in data]
    seeds = list(range(100, 100 + R))
    budget = dict(width=WIDTH, n_layers=2, max_steps=steps, max_epochs=10 ** 6,
                  patience=10 ** 6, device=device)
    if batch_size is not None:
        budget["batch_size"] = batch_size
    estimators = {"ssm": SSMRegressor(**budget), "transformer": TransformerRegressor(**budget)}
    results = {}
    for name, est in estimators.items():
        warm = clone(est).set_params(max_steps=2)  # first-call costs out of the timings
        fit_replicates(warm, Xs[:2], ys[:2], seeds[:2])
        warm.fit(Xs[0], ys[0])
        batched_s, sequential_s = [], []
        for _ in range(repeats):  # interleaved, so that drifting load hits both alike
            t, batched = _timed(lambda: fit_replicates(est, Xs, ys, seeds), device)
            batched_s.append(t)
            t, sequential = _timed(lambda: [clone(est).set_params(random_state=s).fit(X, y)
                                            for X, y, s in zip(Xs, ys, seeds)], device)
            sequential_s.append(t)
        diff = max(float(np.max(np.abs(b.predict(X) - s.predict(X))))
                   for b, s, X in zip(batched, sequential, Xs))
        results[name] = {
            "batched_s": min(batched_s), "sequential_s": min(sequential_s),
            "speedup": min(sequential_s) / min(batched_s),
            "ms_per_step_batched": 1e3 * min(batched_s) / steps,
            "ms_per_step_single": 1e3 * min(sequential_s) / (R * steps),
            "n_params": batched[0].n_params_, "max_prediction_difference": diff,
        }
    return {"config": {"replicates": R, "n": N, "length": LENGTH, "features": FEATURES,
                       "width": WIDTH, "layers": 2, "steps": steps, "repeats": repeats,
                       "batch_size": estimators["ssm"].batch_size, "device": device},
            "machine": machine(), "results": results}


def _format(report: dict) -> str:
    c = report["config"]
    lines = [f"R={c['replicates']} replicates, n={c['n']}, L={c['length']}, d={c['features']}, "
             f"width {c['width']}, {c['layers']} layers, {c['steps']} steps of batch "
             f"{c['batch_size']}, device {c['device']}, torch threads "
             f"{report['machine']['torch_threads']}",
             f"{'estimator':<12} {'batched s':>10} {'sequential s':>13} {'speed-up':>9} "
             f"{'ms/step R=8':>12} {'ms/step R=1':>12} {'max |diff|':>11}"]
    for name, r in report["results"].items():
        lines.append(f"{name:<12} {r['batched_s']:>10.2f} {r['sequential_s']:>13.2f} "
                     f"{r['speedup']:>8.2f}x {r['ms_per_step_batched']:>12.1f} "
                     f"{r['ms_per_step_single']:>12.1f} {r['max_prediction_difference']:>11.1e}")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="20 steps, one repeat")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="mini-batch size (default: the estimators' default)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    report = run(args.device, args.quick, args.batch_size)
    print(_format(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
