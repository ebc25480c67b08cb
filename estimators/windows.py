"""Input validation and the alignment of outputs with sequence positions.

Public helpers (the samplers of ``nprates.targets`` use them too). Shapes used throughout
``nprates.estimators``:

- ``X``: (n, T, d) float, n sequences of T tokens with d features.
- ``y``: (n, L) with 1 <= L <= T, the outputs at the *last* L positions of each
  sequence (positions T-L .. T-1); or (n,), meaning the last position only.

A target whose output at t depends on a window of V tokens has T - L >= V - 1
burn-in tokens in front of the L scored positions, so every scored position sees
its full window.
"""

from __future__ import annotations

import numpy as np


def check_sequences(X, name: str = "X") -> np.ndarray:
    """Return ``X`` as a float64 array of shape (n, T, d), or raise ValueError."""
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape (n, T, d): {exc}") from None
    if arr.ndim != 3:
        raise ValueError(f"{name} must have shape (n, T, d) (3 dimensions), got ndim={arr.ndim} "
                         f"with shape {arr.shape}")
    if min(arr.shape) < 1:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf values")
    return arr


def check_outputs(X: np.ndarray, y, name: str = "y") -> tuple[np.ndarray, bool]:
    """Validate ``y`` against validated ``X``.

    Returns ``(y2d, was_1d)`` with ``y2d`` of shape (n, L) float64 aligned with the
    last L positions of ``X``; ``was_1d`` records that ``y`` had shape (n,).
    """
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    was_1d = arr.ndim == 1
    if was_1d:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n,) or (n, L), got ndim={arr.ndim}")
    if arr.shape[0] != X.shape[0]:
        raise ValueError(f"X and {name} have different numbers of sequences: "
                         f"{X.shape[0]} != {arr.shape[0]}")
    if not 1 <= arr.shape[1] <= X.shape[1]:
        raise ValueError(f"{name} has {arr.shape[1]} positions per sequence but X has only "
                         f"{X.shape[1]} tokens; {name} covers the last positions of X")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf values")
    return arr, was_1d


def scored_windows(X: np.ndarray, n_scored: int, window: int) -> np.ndarray:
    """Windows of the last ``n_scored`` positions: shape (n, n_scored, window, d).

    ``out[i, k, j]`` is token ``t - window + 1 + j`` of sequence i, for the scored
    position ``t = T - n_scored + k`` (so ``j = window - 1`` is the newest token).
    Needs ``window <= T - n_scored + 1``. Returns a read-only strided view.
    """
    n, T, d = X.shape
    if not 1 <= window <= T - n_scored + 1:
        raise ValueError(f"window={window} does not fit: {T} tokens leave at most "
                         f"{T - n_scored + 1} tokens of history for {n_scored} scored positions")
    views = np.lib.stride_tricks.sliding_window_view(X, window, axis=1)  # (n, T-w+1, d, w)
    return views[:, -n_scored:].transpose(0, 1, 3, 2)


def flatten_windows(X: np.ndarray, n_scored: int, window: int) -> np.ndarray:
    """Scored windows as rows of a design matrix: shape (n * n_scored, window * d)."""
    win = scored_windows(X, n_scored, window)
    n, L, w, d = win.shape
    return np.ascontiguousarray(win).reshape(n * L, w * d)
