"""Does a piecewise target pose a selection problem? Checks of docs/theory.md section 5.

- ``rank_one_accuracy``: the best accuracy with which a rule that sees only the query
  token, one token of the window and its lag can tell whether that token ranks first.
  1.0 means a per-token threshold decides the selection (no comparison needed).
- ``selection_change_rate``: how often two independent inputs select different lags at
  the same position.
- ``smallest_gap``: the smallest gap between consecutive importances, to set against
  the target's guaranteed ``margin``.
"""

from __future__ import annotations

import numpy as np

from nprates.targets.base import as_generator, check_count


def _windows(target, n_windows, rng):
    """Tokens with exactly one full window each: (n_windows, W, F)."""
    return target.sample(check_count(n_windows, "n_windows"), 1, rng=as_generator(rng))[0]


def rank_one_accuracy(target, n_windows=100_000, rng=None) -> float:
    """Held-out accuracy of the Bayes rule on (query token, one token, its lag).

    Given those three, whether the token ranks first depends only on the query's sign
    (query-key importance), the lag and the key cells of the two tokens: the offsets
    inside the cells are independent of the rest. The rule is the majority label of each
    (sign, lag, cell of the token, cell of the query token) in one half of the windows,
    scored on the other half (groups unseen in the first half predict "not first").
    """
    X = _windows(target, n_windows, rng)
    m, W, _ = X.shape
    cells = np.minimum((X[..., 0] * target.cells).astype(int), target.cells - 1)  # (m, W)
    lags = np.arange(W)[::-1]  # column w of a window holds the token at lag W - 1 - w
    first = target.selection(X)[:, -1, 0]  # lag of the top token
    label = (lags[None, :] == first[:, None]).ravel()
    sign = (X[:, -1, 1] > 0.5).astype(int) if target.importance == "query-key" else np.zeros(m, int)
    group = ((sign[:, None] * W + lags[None, :]) * target.cells + cells) * target.cells \
        + cells[:, -1:]
    group = group.ravel()
    fit = np.repeat(np.arange(m) < m // 2, W)
    size = 2 * W * target.cells ** 2
    positives = np.bincount(group[fit], weights=label[fit], minlength=size)
    totals = np.bincount(group[fit], minlength=size)
    predict = 2 * positives > totals
    return float(np.mean(predict[group[~fit]] == label[~fit]))


def selection_change_rate(target, n_windows=10_000, rng=None) -> float:
    """Fraction of pairs of independent windows whose selected lags (in rank order) differ."""
    gen = as_generator(rng)
    a = target.selection(_windows(target, n_windows, gen))[:, -1]
    b = target.selection(_windows(target, n_windows, gen))[:, -1]
    return float(np.mean(np.any(a != b, axis=1)))


def smallest_gap(target, n_windows=100_000, rng=None) -> float:
    """Smallest gap between consecutive importances over ``n_windows`` sampled windows."""
    scores = target.importance_scores(_windows(target, n_windows, rng))
    return float(np.diff(np.sort(scores, axis=-1), axis=-1).min())
