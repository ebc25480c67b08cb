"""What the classical baselines share: input checks, y's layout, the window of history.

Each baseline takes X of shape (n, T, d) and y of shape (n, L) (the last L positions
of X) or (n,) (the last position), and `predict` returns y's layout for the last L
positions of the new sequences.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .windows import check_outputs, check_sequences


class SequenceBaseline(RegressorMixin, BaseEstimator):
    """Base class: sklearn regressor on (n, T, d) sequences with (n, L) or (n,) outputs."""

    accepts_sequences = True

    def _check_fit_input(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Validate; return X (n, T, d) and y (n, L) float64 and record the layout."""
        X = check_sequences(X)
        y, self.y_1d_ = check_outputs(X, y)
        self.n_positions_ = y.shape[1]
        self.n_token_features_ = X.shape[2]
        return X, y

    def _check_predict_input(self, X) -> np.ndarray:
        check_is_fitted(self, "n_positions_")
        X = check_sequences(X)
        if X.shape[2] != self.n_token_features_:
            raise ValueError(f"X has {X.shape[2]} features per token, but the estimator was "
                             f"fitted with {self.n_token_features_}")
        return X

    def _as_output(self, pred: np.ndarray, n: int) -> np.ndarray:
        """Row predictions (n * L,) in y's layout: (n, L), or (n,) when fitted on (n,)."""
        pred = np.asarray(pred, dtype=np.float64).reshape(n, self.n_positions_)
        return pred[:, 0] if self.y_1d_ else pred


def resolve_window(window, n_tokens: int, n_positions: int) -> int:
    """The number of tokens in a flattened window: ``window``, or when None all the history
    the first scored position has (``T - L + 1``)."""
    longest = n_tokens - n_positions + 1
    if window is None:
        return longest
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive integer or None, got {window!r}")
    if window > longest:
        raise ValueError(f"window={window} does not fit: X has {n_tokens} tokens and y covers "
                         f"the last {n_positions} positions, leaving at most {longest} tokens "
                         f"of history per scored position")
    return int(window)


def check_grid(values, name: str, integer: bool = False) -> np.ndarray:
    """A non-empty 1-D grid of positive numbers (integers when ``integer``), sorted, unique."""
    try:
        grid = np.unique(np.asarray(values, dtype=np.float64).ravel())
    except (TypeError, ValueError):
        grid = np.array([np.nan])
    if grid.size == 0 or not np.all(np.isfinite(grid) & (grid > 0)) or (
            integer and not np.all(grid == np.round(grid))):
        kind = "positive integers" if integer else "positive numbers"
        raise ValueError(f"{name} must be one or more {kind}, got {values!r}")
    return grid.astype(int) if integer else grid
