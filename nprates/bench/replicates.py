"""Replicate-batched training against sequential fits.

R = 8 replicates (own data and seed each) of one estimator at n = 1024 sequences, trained
for a fixed number of steps (early stopping off): once with ``fit_replicates`` (one batched
computation), once as 8 sequential ``fit`` calls. Two settings:

- ``quick``: the SSM and the Transformer of the quick study (``nprates demo``), with its
  parameters (sizes resolved at n = 1024, the first learning rate of its grid), on its
  gamma-smooth target: the cells a study actually runs;
- ``wide``: the same kinds at width 32 (FNN width 64, state size 16, 4 heads) on 32-token
  sequences of a smooth causal target, where one replicate's step is mostly arithmetic.

For each, ``run`` returns both wall times (medians of interleaved repeats after a warm-up),
their ratio (the speed-up), the time per step and the largest difference between the two
sets of predictions (batched fits equal separate fits up to float rounding).
"""

from __future__ import annotations

import time
from statistics import median

import numpy as np
from sklearn.base import clone

from nprates.estimators.neural import SSMRegressor, TransformerRegressor
from nprates.estimators.replicates import fit_replicates
from nprates.bench.timing import synchronize

R, N = 8, 1024
WIDE = {"length": 32, "features": 2,
        "ssm": dict(width=32, n_layers=2, d_state=16, fnn_width=64),
        "transformer": dict(width=32, n_layers=2, n_heads=4, fnn_width=64)}


def _wide_data(seed: int):
    """Uniform tokens; y_t = sin(2 pi x_{t-1,0}) x_{t,1} + noise (a smooth causal target)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(N, WIDE["length"], WIDE["features"]))
    lagged = np.concatenate([np.zeros((N, 1)), X[:, :-1, 0]], axis=1)
    y = np.sin(2 * np.pi * lagged) * X[:, :, 1] + 0.1 * rng.standard_normal(lagged.shape)
    return X, y


def _quick_setting():
    """(description, data of the R replicates, {kind: (class, params)}) of the quick study."""
    from nprates.studies.build import build_target, estimator_class, target_number, train_set
    from nprates.studies.capacity import resolve_params
    from nprates.studies.examples import quick_study_text
    from nprates.studies.spec import Study

    study = Study.from_toml_text(*quick_study_text())
    target = next(iter(study.targets))
    data = [train_set(study, target, N, r) for r in range(R)]
    a_dagger = target_number(build_target(study, target), "a_dagger")
    models = {}
    for kind in ("ssm", "transformer"):
        # sizes resolved at n = N; one learning rate (the grid's first): one fit is timed
        params = resolve_params(study.estimators[kind].params, N, a_dagger, kind)
        if isinstance(params.get("lr"), list):
            params["lr"] = params["lr"][0]
        models[kind] = (estimator_class(study, kind), params)
    X = data[0][0]
    return (f"the quick study's networks and target, L={X.shape[1]}, d={X.shape[2]}",
            data, models)


def _wide_setting():
    data = [_wide_data(seed) for seed in range(R)]
    models = {"ssm": (SSMRegressor, WIDE["ssm"]),
              "transformer": (TransformerRegressor, WIDE["transformer"])}
    return (f"width 32 (FNN 64), L={WIDE['length']}, d={WIDE['features']}", data, models)


SETTINGS = {"quick": _quick_setting, "wide": _wide_setting}


def _timed(fn, device):
    synchronize(device)
    start = time.perf_counter()
    out = fn()
    synchronize(device)
    return time.perf_counter() - start, out


def _compare(est, Xs, ys, seeds, device, repeats: int, steps: int) -> dict:
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
    batched_t, sequential_t = median(batched_s), median(sequential_s)
    return {"batched_s": batched_t, "sequential_s": sequential_t,
            "speedup": sequential_t / batched_t,
            "ms_per_step_batched": 1e3 * batched_t / steps,
            "ms_per_step_single": 1e3 * sequential_t / (R * steps),
            "n_params": batched[0].n_params_, "max_prediction_difference": diff}


def run(device: str = "cpu", quick: bool = False, repeats: int | None = None,
        settings=tuple(SETTINGS)) -> dict:
    """Time batched against sequential training in each setting; the figures as a dict:
    ``{"config": {...}, "settings": {name: description}, "results": {name: {kind: {...}}}}``
    (times in seconds, ``ms_per_step_*`` in milliseconds per optimiser step)."""
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown:
        raise ValueError(f"unknown replicate bench setting(s) {unknown}; known: "
                         f"{list(SETTINGS)}")
    steps = 20 if quick else 150
    repeats = repeats or (1 if quick else 3)
    seeds = list(range(100, 100 + R))
    budget = dict(max_steps=steps, max_epochs=10 ** 6, patience=10 ** 6, device=device)
    described, results = {}, {}
    for name in settings:
        description, data, models = SETTINGS[name]()
        Xs, ys = [X for X, _ in data], [y for _, y in data]
        described[name] = description
        results[name] = {kind: _compare(cls(**{**params, **budget}), Xs, ys, seeds, device,
                                        repeats, steps)
                         for kind, (cls, params) in models.items()}
    return {"config": {"replicates": R, "n": N, "steps": steps, "repeats": repeats,
                       "batch_size": SSMRegressor().batch_size, "device": str(device)},
            "settings": described, "results": results}
