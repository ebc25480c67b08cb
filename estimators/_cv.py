"""Validation splits over sequences, and least-squares statistics per split.

Positions of one sequence share tokens (their windows overlap), so every split here
is a split of *sequences*: all positions of a sequence land on the same side. Folds
from `sequence_folds` are what ``GroupKFold`` gives on rows with the sequence id as
group, shuffled.

`Moments` holds the sufficient statistics of a least-squares problem on feature
rows (Phi^T Phi, Phi^T y, ...). Accumulated per fold, they give every fold's
training problem (total minus fold) and its validation MSE without keeping the
design matrix, so a fit over many rows needs memory of order p^2, not rows * p.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state


def sequence_folds(n_seq: int, cv, random_state=None) -> np.ndarray:
    """Fold index in 0..cv-1 of each of ``n_seq`` sequences: a shuffled, balanced partition."""
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 2:
        raise ValueError(f"cv must be an integer >= 2 (number of folds), got {cv!r}")
    if n_seq < cv:
        raise ValueError(f"too few sequences: {cv}-fold cross-validation needs at least "
                         f"cv={cv} sequences, got n_samples={n_seq}")
    return check_random_state(random_state).permutation(n_seq) % cv


def holdout_split(n_seq: int, val_fraction, random_state=None) -> np.ndarray:
    """Boolean mask of validation sequences: ``round(val_fraction * n_seq)``, at least one
    sequence on each side."""
    if not (isinstance(val_fraction, (float, int, np.floating)) and 0 < val_fraction < 1):
        raise ValueError(f"val_fraction must be a number in (0, 1), got {val_fraction!r}")
    if n_seq < 2:
        raise ValueError(f"too few sequences: a validation split needs at least 2 sequences, "
                         f"got n_samples={n_seq}")
    n_val = min(max(1, int(round(val_fraction * n_seq))), n_seq - 1)
    is_val = np.zeros(n_seq, dtype=bool)
    is_val[check_random_state(random_state).permutation(n_seq)[:n_val]] = True
    return is_val


@dataclass
class Moments:
    """Least-squares statistics of rows (phi_i, y_i): G = sum phi phi^T, b = sum phi y,
    s = sum phi, sy = sum y, syy = sum y^2, count = number of rows."""

    G: np.ndarray
    b: np.ndarray
    s: np.ndarray
    sy: float = 0.0
    syy: float = 0.0
    count: float = 0.0

    @classmethod
    def zeros(cls, p: int) -> "Moments":
        return cls(np.zeros((p, p)), np.zeros(p), np.zeros(p))

    def add(self, Phi: np.ndarray, y: np.ndarray) -> None:
        """Add rows ``Phi`` (r, p) with outputs ``y`` (r,)."""
        self.G += Phi.T @ Phi
        self.b += Phi.T @ y
        self.s += Phi.sum(axis=0)
        self.sy += float(y.sum())
        self.syy += float(y @ y)
        self.count += len(y)

    def __add__(self, other: "Moments") -> "Moments":
        return Moments(self.G + other.G, self.b + other.b, self.s + other.s, self.sy + other.sy,
                       self.syy + other.syy, self.count + other.count)

    def __sub__(self, other: "Moments") -> "Moments":
        return Moments(self.G - other.G, self.b - other.b, self.s - other.s, self.sy - other.sy,
                       self.syy - other.syy, self.count - other.count)

    def leading(self, k: int) -> "Moments":
        """The statistics of the first ``k`` features."""
        return Moments(self.G[:k, :k], self.b[:k], self.s[:k], self.sy, self.syy, self.count)

    def project(self, A: np.ndarray) -> "Moments":
        """The statistics of the features ``phi @ A``."""
        return Moments(A.T @ self.G @ A, A.T @ self.b, A.T @ self.s, self.sy, self.syy, self.count)

    def mse(self, w: np.ndarray, intercept: float = 0.0) -> float:
        """Mean of (y - intercept - phi^T w)^2 over the rows, from the statistics alone."""
        ss = self.syy - 2 * intercept * self.sy + intercept ** 2 * self.count
        ss += -2 * w @ (self.b - intercept * self.s) + w @ self.G @ w
        return max(float(ss), 0.0) / self.count


def fold_moments(chunks, n_folds: int, p: int) -> list[Moments]:
    """Accumulate `Moments` per fold from an iterable of ``(Phi, y, fold)`` row chunks."""
    moments = [Moments.zeros(p) for _ in range(n_folds)]
    for Phi, y, fold in chunks:
        for f in range(n_folds):
            rows = fold == f
            if rows.any():
                moments[f].add(Phi[rows], y[rows])
    return moments
