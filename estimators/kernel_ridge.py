"""Kernel ridge regression with an RBF kernel on flattened windows of history.

Each scored position is one row: its window of ``window`` tokens flattened to a
vector of window * d numbers, its output the row's target. The RBF bandwidth is a
multiple of the median pairwise distance between rows; bandwidth and ridge penalty
are chosen by cross-validation over folds of *sequences*.

Scalability (rows = n * L reach ~1e5, exact kernel ridge costs rows^3): the fit is
kernel ridge on the Nystroem approximation with m = min(rows, n_components)
landmark rows drawn at random. Up to n_components rows every row is a landmark
and the fit *is* exact kernel ridge; above, the function is restricted to the span
of m kernel functions, which caps the estimator's complexity at n_components. For
the rate this is harmless while the number of components the optimal ridge
penalty needs (of order sqrt(rows) up to logs, Rudi et al. 2015) stays below the
cap; past that the approximation error flattens the measured curve, so raise
n_components for the largest n (cost ~ rows * m^2 per bandwidth).

The fit never stores a rows x m matrix: it accumulates K^T K per fold over chunks
of rows (K: kernel between rows and landmarks; see `_cv.Moments`) and maps it to
the Nystroem features' Phi^T Phi, from which every fold's ridge solution for every
penalty and its validation error follow.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg
from scipy.spatial.distance import pdist
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.utils import check_random_state

from ._baseline import SequenceBaseline, check_grid, resolve_window
from ._cv import Moments, fold_moments, sequence_folds
from .windows import flatten_windows

_CHUNK_FLOATS = 2 ** 22  # kernel entries computed at once (32 MB)


class KernelRidgeBaseline(SequenceBaseline):
    """RBF kernel ridge on flattened windows, penalty and bandwidth by grouped CV.

    Parameters
    ----------
    window : int or None
        Tokens per window (the newest is the scored position); None: all the history
        the first scored position has, T - L + 1.
    alphas : sequence of float
        Ridge penalties per training row: the fit minimises the mean squared error
        plus alpha * ||f||^2 in the kernel's space.
    bandwidths : sequence of float
        RBF bandwidths h as multiples of the median pairwise distance between rows;
        k(u, v) = exp(-||u - v||^2 / (2 h^2)).
    cv : int
        Number of cross-validation folds, over sequences.
    n_components : int
        Most landmark rows of the Nystroem approximation (exact kernel ridge when
        there are no more rows than this).
    random_state : int, RandomState or None
        Seed of the folds, the landmarks and the rows used for the median distance.

    Fitted attributes: ``window_``, ``landmarks_`` (m, window * d), ``dual_coef_``
    (m,), ``intercept_``, ``alpha_``, ``bandwidth_`` (absolute), ``gamma_`` = 1 /
    (2 bandwidth_^2), ``cv_mse_`` (len(bandwidths), len(alphas)), ``val_loss_``,
    ``train_loss_``, ``n_params_`` (m), ``fit_seconds_``.
    """

    def __init__(self, window=None, *,
                 alphas=(1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0),
                 bandwidths=(0.25, 0.5, 1.0, 2.0), cv=3, n_components=1000, random_state=None):
        self.window = window
        self.alphas = alphas
        self.bandwidths = bandwidths
        self.cv = cv
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y):
        start = time.perf_counter()
        alphas = check_grid(self.alphas, "alphas")
        bandwidths = check_grid(self.bandwidths, "bandwidths")
        n_components = check_grid([self.n_components], "n_components", integer=True)[0]
        X, y = self._check_fit_input(X, y)
        n, L = y.shape
        self.window_ = resolve_window(self.window, X.shape[1], L)
        rng = check_random_state(self.random_state)
        fold = np.repeat(sequence_folds(n, self.cv, rng), L)
        Z, y = flatten_windows(X, L, self.window_), y.ravel()
        m = min(len(Z), n_components)
        landmarks = Z[np.sort(rng.choice(len(Z), m, replace=False))]
        scale = _median_distance(Z, rng)

        self.cv_mse_ = np.empty((len(bandwidths), len(alphas)))
        best = None
        for i, h in enumerate(bandwidths * scale):
            gamma = 1.0 / (2.0 * h ** 2)
            proj = _nystroem_projection(landmarks, gamma)
            chunks = ((rbf_kernel(Z[r], landmarks, gamma=gamma), y[r], fold[r])
                      for r in _row_chunks(len(Z), m))
            folds = [f.project(proj) for f in fold_moments(chunks, self.cv, m)]
            total = sum(folds[1:], folds[0])
            sse = np.zeros(len(alphas))
            for held_out in folds:
                train = total - held_out
                for j, alpha in enumerate(alphas):
                    w, mu = _ridge(train, alpha)
                    sse[j] += held_out.mse(w, mu) * held_out.count
            self.cv_mse_[i] = sse / total.count
            j = int(np.argmin(self.cv_mse_[i]))
            if best is None or self.cv_mse_[i, j] < best[0]:
                best = (self.cv_mse_[i, j], h, gamma, alphas[j], proj, total)

        val_loss, bandwidth, gamma, alpha, proj, total = best
        w, mu = _ridge(total, alpha)
        self.landmarks_ = landmarks
        self.dual_coef_ = proj @ w
        self.intercept_ = mu
        self.alpha_, self.bandwidth_, self.gamma_ = float(alpha), float(bandwidth), float(gamma)
        self.val_loss_ = float(val_loss)
        self.train_loss_ = total.mse(w, mu)
        self.n_params_ = float(m)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict(self, X):
        X = self._check_predict_input(X)
        Z = flatten_windows(X, self.n_scored_, self.window_)
        pred = np.empty(len(Z))
        for r in _row_chunks(len(Z), len(self.landmarks_)):
            K = rbf_kernel(Z[r], self.landmarks_, gamma=self.gamma_)
            pred[r] = K @ self.dual_coef_ + self.intercept_
        return self._as_output(pred, X.shape[0])


def _ridge(m: Moments, alpha: float) -> tuple[np.ndarray, float]:
    """Ridge coefficients and intercept (the mean output) from the statistics ``m``:
    minimise mean squared error + alpha * ||w||^2."""
    mu = m.sy / m.count
    A = m.G + alpha * m.count * np.eye(len(m.G))
    rhs = m.b - mu * m.s
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(A), rhs), mu
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(A, rhs, rcond=None)[0], mu


def _row_chunks(n_rows: int, width: int):
    step = max(1, _CHUNK_FLOATS // max(width, 1))
    return (slice(i, i + step) for i in range(0, n_rows, step))


def _nystroem_projection(landmarks: np.ndarray, gamma: float, rtol: float = 1e-10) -> np.ndarray:
    """Map kernel columns to Nystroem features: K(x, landmarks) @ proj = phi(x), with
    phi(u) . phi(v) = k(u, v) on the landmarks. Eigen-directions of the landmark kernel
    below rtol * the largest are dropped (they carry nothing but rounding error)."""
    evals, evecs = np.linalg.eigh(rbf_kernel(landmarks, landmarks, gamma=gamma))
    keep = evals > rtol * evals[-1]
    return evecs[:, keep] / np.sqrt(evals[keep])


def _median_distance(Z: np.ndarray, rng, max_rows: int = 1000) -> float:
    """Median pairwise Euclidean distance between (at most ``max_rows`` random) rows."""
    rows = Z[rng.choice(len(Z), min(len(Z), max_rows), replace=False)]
    d = pdist(rows) if len(rows) > 1 else np.zeros(1)
    med = float(np.median(d))
    return med if med > 0 else 1.0
