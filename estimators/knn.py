"""k-nearest-neighbour regression on flattened windows of history, k by grouped CV.

Each scored position is one row (its window of tokens flattened). The candidate k
run geometrically from 1 to sqrt(rows), so the grid grows with the data. One
neighbour query per fold with the largest k gives the validation error of every
candidate k (running sums over the sorted neighbours).
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.neighbors import KNeighborsRegressor

from ._baseline import SequenceBaseline, check_grid, resolve_window
from ._cv import sequence_folds
from .windows import flatten_windows


class KNNBaseline(SequenceBaseline):
    """k-nearest-neighbour regression on flattened windows, k by CV over sequences.

    Parameters
    ----------
    window : int or None
        Tokens per window (the newest is the scored position); None: all the history
        the first scored position has, T - L + 1.
    n_neighbors : int, sequence of int, or None
        Candidate k; None: about 20 values spaced geometrically from 1 to
        sqrt(rows). Candidates above the rows of the smallest training fold are dropped.
    cv : int
        Number of cross-validation folds, over sequences.
    weights : {"uniform", "distance"}
        As in sklearn's KNeighborsRegressor.
    random_state : int, RandomState or None
        Seed of the folds.

    Fitted attributes: ``window_``, ``n_neighbors_``, ``model_`` (the fitted
    KNeighborsRegressor), ``neighbors_grid_`` and ``cv_mse_`` (candidates and their
    CV MSE), ``val_loss_``, ``train_loss_``, ``n_params_`` (NaN: no coefficients),
    ``fit_seconds_``.
    """

    def __init__(self, window=None, n_neighbors=None, *, cv=3, weights="uniform",
                 random_state=None):
        self.window = window
        self.n_neighbors = n_neighbors
        self.cv = cv
        self.weights = weights
        self.random_state = random_state

    def fit(self, X, y):
        start = time.perf_counter()
        if self.weights not in ("uniform", "distance"):
            raise ValueError(f"weights must be 'uniform' or 'distance', got {self.weights!r}")
        X, y = self._check_fit_input(X, y)
        n, L = y.shape
        self.window_ = resolve_window(self.window, X.shape[1], L)
        fold = np.repeat(sequence_folds(n, self.cv, self.random_state), L)
        Z, y = flatten_windows(X, L, self.window_), y.ravel()

        smallest_train = len(Z) - np.bincount(fold).max()
        if self.n_neighbors is None:
            k_max = min(smallest_train, int(np.ceil(np.sqrt(len(Z)))))
            grid = np.unique(np.round(np.geomspace(1, k_max, 20)).astype(int))
        else:
            grid = check_grid(self.n_neighbors, "n_neighbors", integer=True)
            grid = grid[grid <= smallest_train]
            if grid.size == 0:
                raise ValueError(f"n_neighbors={self.n_neighbors!r} exceeds the {smallest_train} "
                                 f"rows of the smallest cross-validation training fold")

        sse = np.zeros(len(grid))
        for f in range(self.cv):
            train, val = fold != f, fold == f
            knn = KNeighborsRegressor(n_neighbors=int(grid[-1])).fit(Z[train], y[train])
            dist, idx = knn.kneighbors(Z[val])
            pred = _running_predictions(dist, y[train][idx], self.weights)[:, grid - 1]
            sse += ((pred - y[val, None]) ** 2).sum(axis=0)
        self.neighbors_grid_, self.cv_mse_ = grid, sse / len(Z)
        best = int(np.argmin(self.cv_mse_))

        self.n_neighbors_ = int(grid[best])
        self.model_ = KNeighborsRegressor(n_neighbors=self.n_neighbors_, weights=self.weights)
        self.model_.fit(Z, y)
        self.val_loss_ = float(self.cv_mse_[best])
        self.train_loss_ = float(np.mean((self.model_.predict(Z) - y) ** 2))
        self.n_params_ = np.nan
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict(self, X):
        X = self._check_predict_input(X)
        Z = flatten_windows(X, self.n_scored_, self.window_)
        return self._as_output(self.model_.predict(Z), X.shape[0])


def _running_predictions(dist: np.ndarray, y_nb: np.ndarray, weights: str) -> np.ndarray:
    """Column k-1: the k-NN prediction from the k nearest (sorted) neighbours, for every k.

    "distance" weights 1/distance, and where a neighbour coincides with the query
    only the coinciding neighbours count, as in KNeighborsRegressor.
    """
    if weights == "uniform":
        w = np.ones_like(dist)
    else:
        exact = dist == 0
        with np.errstate(divide="ignore"):
            w = np.where(exact.any(axis=1, keepdims=True), exact, 1.0 / dist)
    return np.cumsum(w * y_nb, axis=1) / np.cumsum(w, axis=1)
