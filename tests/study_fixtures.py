"""Small helpers for the study tests: a custom callable target and misbehaving estimators."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge

from nprates.estimators.windows import flatten_windows
from nprates.estimators.errors import TrainingDiverged


class SineTarget:
    """F_t(X) = scale * sin(2 pi x_t) + x_{t-1}: a window of 2 tokens, 1 feature."""

    window = 2
    burn_in = 1
    exponent = 0.5
    a_dagger = 0.5

    def __init__(self, scale=1.0, seed=0):
        self.scale = scale
        self.seed = seed
        self.shift = np.random.default_rng(seed).uniform(-0.1, 0.1)

    def __call__(self, X):
        X = np.asarray(X, dtype=np.float64)
        out = np.full(X.shape[:2], np.nan)
        out[:, 1:] = self.scale * np.sin(2 * np.pi * X[:, 1:, 0]) + X[:, :-1, 0] + self.shift
        return out

    def sample(self, n, length, noise=0.0, rng=None):
        rng = np.random.default_rng(rng)
        X = rng.uniform(size=(n, length + self.burn_in, 1))
        f = self(X)[:, self.burn_in:]
        return X, f + noise * rng.standard_normal(f.shape), f


def make_sine_target(scale=1.0, seed=0):
    """A factory function (the ``callable`` target kind takes functions or classes)."""
    return SineTarget(scale=scale, seed=seed)


class FailingRegressor(RegressorMixin, BaseEstimator):
    """Misbehaves for sample sizes in ``fail_at`` (rows of the flattened design).

    ``mode``: "raise" (ArithmeticError in fit), "diverge" (TrainingDiverged in fit) or
    "nan" (fits, then predicts NaN).
    """

    def __init__(self, fail_at=(), mode="raise", alpha=1.0):
        self.fail_at = fail_at
        self.mode = mode
        self.alpha = alpha

    def fit(self, X, y):
        if len(X) in tuple(self.fail_at):
            if self.mode == "raise":
                raise ArithmeticError(f"deliberate failure at {len(X)} rows")
            if self.mode == "diverge":
                raise TrainingDiverged(f"deliberate divergence at {len(X)} rows")
            self.nan_ = True
        else:
            self.nan_ = False
        self.model_ = Ridge(alpha=self.alpha).fit(X, y)
        return self

    def predict(self, X):
        pred = self.model_.predict(X)
        return np.full_like(pred, np.nan) if self.nan_ else pred


class ReplicateRidge(RegressorMixin, BaseEstimator):
    """A sequence estimator with batched replicates: ridge on windows of 2 tokens.

    ``_fit_replicates`` (what ``fit_replicates`` calls) records each call in ``calls``
    and returns TrainingDiverged for the batch positions listed in ``diverge_at``.
    """

    accepts_sequences = True
    calls: list = []

    def __init__(self, alpha=1.0, diverge_at=(), random_state=None):
        self.alpha = alpha
        self.diverge_at = diverge_at
        self.random_state = random_state

    def fit(self, X, y):
        self.length_ = y.shape[1]
        self.model_ = Ridge(alpha=self.alpha).fit(flatten_windows(X, self.length_, 2), y.ravel())
        self.n_params_ = self.model_.coef_.size + 1
        return self

    def predict(self, X):
        return self.model_.predict(flatten_windows(X, self.length_, 2)).reshape(len(X), -1)

    def _fit_replicates(self, Xs, ys, random_states):
        ReplicateRidge.calls.append(len(Xs))
        return [TrainingDiverged("deliberate divergence in a batch") if r in self.diverge_at
                else clone(self).set_params(random_state=seed).fit(X, y)
                for r, (X, y, seed) in enumerate(zip(Xs, ys, random_states))]


class SlowRidge(Ridge):
    """Ridge that sleeps in fit (for the kill-and-resume test) and counts fits in a file."""

    def __init__(self, alpha=1.0, sleep=0.0, counter=""):
        super().__init__(alpha=alpha)
        self.sleep = sleep
        self.counter = counter

    def fit(self, X, y, sample_weight=None):
        if self.counter:
            with open(self.counter, "a") as fh:
                fh.write(f"{len(X)}\n")
        time.sleep(self.sleep)
        return super().fit(X, y, sample_weight)


def pid() -> int:
    return os.getpid()


ROOT = Path(__file__).resolve().parents[1]


def env_with_fixtures() -> dict:
    """Environment for a subprocess that imports the repository and these fixtures."""
    env = dict(os.environ)
    paths = [str(ROOT), str(ROOT / "tests"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env
