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
import scipy.sparse


# Largest |value| accepted in y: squared errors of such outputs, summed over many rows,
# stay finite in float64 (sqrt of the largest float64 is about 1.3e154).
MAX_OUTPUT_MAGNITUDE = 1e150


class SequenceInput:
    """Mixin of the estimators taking X (n, T, d): scikit-learn tags saying so (3-D input,
    not 2-D; checks that feed 2-D data skip them; multi-output, since y is (n, L), one
    output per scored position, as well as (n,)). Put it before ``BaseEstimator``."""

    accepts_sequences = True  # takes (n, T, d) and (n, L) natively (the study runner reads it)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = True
        return tags


def _as_float_array(values, name: str, shape: str) -> np.ndarray:
    """``values`` as a float64 array, refusing None, sparse matrices and complex numbers
    (whose imaginary part a float conversion would drop)."""
    if values is None:
        if name == "y":
            raise ValueError(f"the estimator requires y to be passed, but the target y is None: "
                             f"give y of shape {shape}")
        raise ValueError(f"{name} is required: a numeric array of shape {shape}, got None")
    if scipy.sparse.issparse(values):
        raise ValueError(f"{name} is a sparse {type(values).__name__}; the sequence estimators "
                         f"need a dense numeric array of shape {shape}")
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape {shape}: {exc}") from None
    if np.iscomplexobj(raw):
        raise ValueError(f"Complex data not supported: {name} holds complex numbers (dtype "
                         f"{raw.dtype}), whose imaginary part a real estimator would drop; pass "
                         f"the real and imaginary parts as separate features")
    try:
        return raw.astype(np.float64)
    except TypeError as exc:  # an element that is no number (a dict, None): a type error
        raise TypeError(f"{name} must hold numbers, shape {shape}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{name} must be a numeric array of shape {shape}: {exc}") from None


def check_sequences(X, name: str = "X") -> np.ndarray:
    """Return ``X`` as a float64 array of shape (n, T, d), or raise ValueError (also for
    None, sparse and complex ``X``; TypeError for elements that are no numbers)."""
    arr = _as_float_array(X, name, "(n, T, d)")
    if arr.ndim != 3:
        raise ValueError(f"{name} must have shape (n, T, d) (3 dimensions), got ndim={arr.ndim} "
                         f"with shape {arr.shape}. Reshape your data: n sequences of T tokens "
                         f"with d features each")
    for size, what in zip(arr.shape, ("sample(s) (sequences)", "token(s) per sequence",
                                      "feature(s) per token")):
        if size < 1:
            raise ValueError(f"{name} is empty: 0 {what} (shape={arr.shape}) while a minimum "
                             f"of 1 is required")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf values")
    return arr


def check_outputs(X: np.ndarray, y, name: str = "y") -> tuple[np.ndarray, bool]:
    """Validate ``y`` against validated ``X``.

    Returns ``(y2d, was_1d)`` with ``y2d`` of shape (n, L) float64 aligned with the
    last L positions of ``X``; ``was_1d`` records that ``y`` had shape (n,). Refuses
    None, sparse and complex ``y``, and values beyond ``MAX_OUTPUT_MAGNITUDE``.
    """
    arr = _as_float_array(y, name, "(n,) or (n, L)")
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
    largest = float(np.abs(arr).max())
    if largest > MAX_OUTPUT_MAGNITUDE:
        raise ValueError(f"{name} holds values up to {largest:.3g} in magnitude, beyond "
                         f"{MAX_OUTPUT_MAGNITUDE:.0e}: their squared errors overflow float64; "
                         f"rescale {name}")
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
