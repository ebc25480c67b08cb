"""Replicate-batched training against sequential fits.

R = 8 replicates (own data and seed each) of one estimator at n = 1024 sequences of
L = 32 tokens (all scored) with d = 2 features, trained for a fixed number of steps
(early stopping off): once with ``fit_replicates`` (one batched computation), once as 8
sequential ``fit`` calls. For the 2-layer SSM and the 2-layer Transformer of width 32
(defaults otherwise) ``run`` returns both wall times, their ratio (the speed-up), the time
per step, and the largest difference between the two sets of predictions (the batched
results equal separate fits up to float rounding).
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import clone

from estimators.neural import SSMRegressor, TransformerRegressor
from estimators.replicates import fit_replicates
from nprates.bench.timing import synchronize

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
                       "batch_size": estimators["ssm"].batch_size, "device": str(device)},
            "results": results}
