"""What the classical baselines share: input checks, y's layout, the window of history.

Each baseline takes X of shape (n, T, d) and y of shape (n, L) (the last L positions
of X) or (n,) (the last position), and `predict` returns y's layout for the last L
positions of the new sequences.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .windows import SequenceInput, check_outputs, check_sequences


class SequenceBaseline(SequenceInput, RegressorMixin, BaseEstimator):
    """Base class: sklearn regressor on (n, T, d) sequences with (n, L) or (n,) outputs.

    Fitted layout (as for the neural estimators): ``n_features_in_`` (d), ``seq_len_`` (T),
    ``n_scored_`` (L), ``output_1d_`` (y had shape (n,)).
    """

    def _check_fit_input(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Validate; return X (n, T, d) and y (n, L) float64 and record the layout."""
        X = check_sequences(X)
        y, self.output_1d_ = check_outputs(X, y)
        self.n_features_in_, self.seq_len_, self.n_scored_ = X.shape[2], X.shape[1], y.shape[1]
        return X, y

    def _check_predict_input(self, X) -> np.ndarray:
        check_is_fitted(self, "n_scored_")
        X = check_sequences(X)
        if X.shape[2] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[2]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input (features "
                             f"per token, X's last axis)")
        return X

    def _as_output(self, pred: np.ndarray, n: int) -> np.ndarray:
        """Row predictions (n * L,) in y's layout: (n, L), or (n,) when fitted on (n,)."""
        pred = np.asarray(pred, dtype=np.float64).reshape(n, self.n_scored_)
        return pred[:, 0] if self.output_1d_ else pred


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
