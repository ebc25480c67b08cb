"""Summaries of token importance on a user's own sequences, where no true selection is known.

Input: an importance array (n, L, T) >= 0 (``nprates.estimators.importance``; output l at
position p = T - L + l, tokens after p hold 0). Tokens are compared by lag (0 = the
output's own token) over the ``window`` most recent tokens (default: the tokens every
output has, T - L + 1), each output's importance normalised to shares summing to 1
(outputs with no importance at all are skipped).

- ``sparsity``: the share of importance on the k most important tokens, against k /
  window for importance spread evenly (1 for all of it on k tokens).
- ``input_dependence``: how often the most important lag differs between two inputs at
  the same output position (1 - sum_j P(argmax = j)^2, averaged over positions): 0 when
  one lag always wins (a static rule), larger when the winner changes with the input.
  Beside it the same statistic under a permutation baseline, the lags of each output
  shuffled (a winner that is unrelated to position), whose mean over permutations is
  the value of an importance that is entirely input-driven; ``relative`` is their ratio.
- ``position_profile``: the mean share of importance at each lag, with intervals over
  sequences.

Intervals are normal intervals of means over sequences (``recovery.mean_interval``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .recovery import mean_interval, per_sequence_mean, window_importance


def _shares(importance, window) -> np.ndarray:
    """Window importance by lag as shares of each output's total: (n, L, W), NaN rows for
    outputs with no importance."""
    importance = np.asarray(importance, dtype=np.float64)
    if importance.ndim != 3:
        raise ValueError(f"importance must have shape (n, L, T), got {importance.shape}")
    n, L, T = importance.shape
    window = T - L + 1 if window is None else window
    if not isinstance(window, (int, np.integer)) or not 1 <= window <= T - L + 1:
        raise ValueError(f"window must be an integer in [1, T - L + 1 = {T - L + 1}] (the "
                         f"tokens every output has), got {window!r}")
    win = window_importance(importance, int(window))
    if np.any(win < 0):
        raise ValueError("importance must be >= 0 (e.g. token_importance's L1 norms)")
    total = win.sum(axis=2, keepdims=True)
    return np.where(total > 0, win / np.where(total > 0, total, 1.0), np.nan)


@dataclass(frozen=True)
class Sparsity:
    """Share of importance on the ``k`` most important of ``window`` tokens: ``mean``,
    ``interval`` (over sequences), ``uniform`` = k / window."""

    k: int
    window: int
    mean: float
    interval: tuple
    uniform: float


def sparsity(importance, k: int = 1, window: int | None = None, level: float = 0.95) -> Sparsity:
    """Share of each output's importance on its ``k`` most important window tokens."""
    shares = _shares(importance, window)
    W = shares.shape[2]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= W:
        raise ValueError(f"k must be an integer in [1, window = {W}], got {k!r}")
    top = -np.sort(-shares, axis=2)[..., :k].sum(axis=2)
    mean, interval = mean_interval(per_sequence_mean(top), level)
    return Sparsity(k=int(k), window=W, mean=mean, interval=interval, uniform=k / W)


@dataclass(frozen=True)
class InputDependence:
    """How often the most important lag changes between inputs (module docstring).

    ``observed``; ``permutation_mean`` and ``permutation_interval`` (2.5% and 97.5%
    quantiles over ``n_permutations``); ``relative`` = observed / permutation_mean;
    ``by_position`` (L,) observed per output position; ``window``."""

    observed: float
    permutation_mean: float
    permutation_interval: tuple
    relative: float
    by_position: np.ndarray
    window: int
    n_permutations: int


def _change_rate(winners: np.ndarray, valid: np.ndarray, W: int) -> np.ndarray:
    """1 - sum_j p_j^2 of the winning lags at each output position: (L,)."""
    out = np.full(winners.shape[1], np.nan)
    for l in range(winners.shape[1]):
        w = winners[valid[:, l], l]
        if w.size:
            p = np.bincount(w, minlength=W) / w.size
            out[l] = 1.0 - np.sum(p ** 2)
    return out


def input_dependence(importance, window: int | None = None, n_permutations: int = 200,
                     seed=0) -> InputDependence:
    """Input-dependence of the most important lag, against a permutation baseline."""
    shares = _shares(importance, window)
    n, L, W = shares.shape
    valid = np.all(np.isfinite(shares), axis=2)
    filled = np.nan_to_num(shares, nan=0.0)
    by_position = _change_rate(np.argmax(filled, axis=2), valid, W)
    observed = float(np.nanmean(by_position))
    rng = np.random.default_rng(seed)
    null = np.empty(n_permutations)
    for b in range(n_permutations):
        order = np.argsort(rng.random(filled.shape), axis=2)
        shuffled = np.take_along_axis(filled, order, axis=2)
        null[b] = np.nanmean(_change_rate(np.argmax(shuffled, axis=2), valid, W))
    perm = float(null.mean())
    return InputDependence(observed=observed, permutation_mean=perm,
                           permutation_interval=(float(np.quantile(null, 0.025)),
                                                 float(np.quantile(null, 0.975))),
                           relative=observed / perm if perm > 0 else np.nan,
                           by_position=by_position, window=W, n_permutations=n_permutations)


@dataclass(frozen=True)
class PositionProfile:
    """Mean share of importance by lag: ``mean`` (W,), ``low`` and ``high`` (W,) interval
    bounds over sequences, ``lags`` = 0..W-1."""

    lags: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def position_profile(importance, window: int | None = None, level: float = 0.95) -> PositionProfile:
    """The mean share of importance at each lag of the window."""
    shares = _shares(importance, window)
    W = shares.shape[2]
    stats = [mean_interval(per_sequence_mean(shares[..., j]), level) for j in range(W)]
    return PositionProfile(lags=np.arange(W), mean=np.array([m for m, _ in stats]),
                           low=np.array([i[0] for _, i in stats]),
                           high=np.array([i[1] for _, i in stats]))
