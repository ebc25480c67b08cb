"""Least squares on the target's own basis: the best slope achievable for that target.

The oracle knows the target's basis functions and their levels gamma(s) (docs/theory.md
sections 3-4). For a truncation level T it fits y by least squares on the basis
functions with gamma(s) <= T; T trades the bias of the dropped blocks against the
variance of the kept coefficients, and is chosen on a validation split of the
training sequences. With T chosen well this is the projection estimator behind the
minimax rate, so its log-log slope is the reference for every other estimator.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg

from ._baseline import SequenceBaseline
from ._cv import Moments, fold_moments, holdout_split

_CHUNK_FLOATS = 2 ** 22  # design-matrix entries computed at once (32 MB)


class OracleProjection(SequenceBaseline):
    """Least squares on the true basis of a target, truncated at a validated level.

    Parameters
    ----------
    basis : object
        The target, or anything with ``window`` (V), ``basis_levels`` (P,) (the level
        gamma(s) of each basis function) and ``design_matrix(X)`` returning the basis
        functions at the positions with a full window, shape (n, T - V + 1, P).
    levels : sequence of float or None
        Candidate truncation levels; None: every distinct value of ``basis_levels``.
        Levels keeping more basis functions than there are training rows are skipped
        (if all do, the smallest level is fitted by minimum-norm least squares).
    val_fraction : float
        Fraction of the training *sequences* held out to choose the level; the final
        fit at that level uses all sequences.
    random_state : int, RandomState or None
        Seed of the validation split.

    Fitted attributes: ``coef_`` (P,) in the basis's column order, zero above the
    chosen level; ``level_``; ``n_basis_`` (basis functions kept); ``levels_`` and
    ``val_losses_`` (the candidates tried and their validation MSE); ``val_loss_``,
    ``train_loss_``, ``n_params_``, ``fit_seconds_``.
    """

    needs_target_basis = True

    def __init__(self, basis=None, *, levels=None, val_fraction=0.2, random_state=None):
        self.basis = basis
        self.levels = levels
        self.val_fraction = val_fraction
        self.random_state = random_state

    def fit(self, X, y):
        start = time.perf_counter()
        window, basis_levels = self._check_basis()
        X, y = self._check_fit_input(X, y)
        n, L = y.shape
        self._check_positions(X, window)
        order = np.argsort(basis_levels, kind="stable")  # nested truncations = leading columns
        sorted_levels = basis_levels[order]
        levels, sizes = self._candidates(sorted_levels)

        is_val = holdout_split(n, self.val_fraction, self.random_state)
        feasible = sizes <= (n - is_val.sum()) * L
        if not feasible.any():  # more basis functions than rows at every level
            feasible[0] = True
        levels, sizes = levels[feasible], sizes[feasible]
        columns = order[:sizes.max()]
        chunks = ((Phi, y[rows].ravel(), np.repeat(is_val[rows], L).astype(int))
                  for rows, Phi in self._design_chunks(X, columns))
        train, val = fold_moments(chunks, 2, len(columns))

        val_losses = np.array([val.leading(k).mse(w)
                               for k, w in zip(sizes, _nested_lstsq(train, sizes))])
        best = int(np.argmin(val_losses))
        k = int(sizes[best])
        total = train + val
        w = _nested_lstsq(total, [k])[0]

        self.coef_ = np.zeros(len(basis_levels))
        self.coef_[order[:k]] = w
        self.level_ = float(levels[best])
        self.n_basis_ = k
        self.levels_, self.val_losses_ = levels, val_losses
        self.val_loss_ = float(val_losses[best])
        self.train_loss_ = total.leading(k).mse(w)
        self.n_params_ = float(k)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict(self, X):
        X = self._check_predict_input(X)
        window, _ = self._check_basis()
        self._check_positions(X, window)
        kept = np.flatnonzero(self.coef_)
        pred = np.empty((X.shape[0], self.n_scored_))
        for rows, Phi in self._design_chunks(X, kept):
            pred[rows] = (Phi @ self.coef_[kept]).reshape(-1, self.n_scored_)
        return self._as_output(pred, X.shape[0])

    # -- helpers -----------------------------------------------------------------------

    def _check_basis(self) -> tuple[int, np.ndarray]:
        basis = self.basis
        if basis is None:
            raise ValueError("basis is required: pass the target (an object with window, "
                             "basis_levels and design_matrix(X)) as OracleProjection(basis=...)")
        missing = [a for a in ("window", "basis_levels", "design_matrix") if not hasattr(basis, a)]
        if missing or not callable(basis.design_matrix):
            raise ValueError(f"basis must have window, basis_levels and a callable "
                             f"design_matrix(X); {type(basis).__name__} lacks "
                             f"{', '.join(missing) or 'a callable design_matrix'}")
        levels = np.asarray(basis.basis_levels, dtype=np.float64)
        if levels.ndim != 1 or levels.size == 0 or not np.all(np.isfinite(levels)):
            raise ValueError(f"basis.basis_levels must be a non-empty 1-D array of finite "
                             f"levels, got shape {levels.shape}")
        return int(basis.window), levels

    def _check_positions(self, X: np.ndarray, window: int) -> None:
        full = X.shape[1] - window + 1
        if self.n_scored_ > full:
            raise ValueError(f"y covers the last {self.n_scored_} positions, but with "
                             f"basis.window={window} only the last {max(full, 0)} of the "
                             f"{X.shape[1]} tokens have a full window")

    def _candidates(self, sorted_levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate levels and the number of basis functions each keeps (distinct, > 0)."""
        if self.levels is None:
            levels = np.unique(sorted_levels)
        else:
            levels = np.unique(np.asarray(self.levels, dtype=np.float64).ravel())
            if levels.size == 0 or not np.all(np.isfinite(levels)):
                raise ValueError(f"levels must be finite numbers or None, got {self.levels!r}")
        tol = 1e-9 * np.maximum(1.0, np.abs(levels))
        sizes = np.searchsorted(sorted_levels, levels + tol, side="right")
        sizes, first = np.unique(sizes, return_index=True)  # same size -> same model
        keep = sizes > 0
        if not keep.any():
            raise ValueError(f"no basis function has a level <= max(levels)={levels.max()}; "
                             f"the smallest basis level is {sorted_levels[0]}")
        return levels[first][keep], sizes[keep]

    def _design_chunks(self, X: np.ndarray, columns: np.ndarray):
        """Yield (sequence slice, basis columns at the scored positions, (rows, len(columns)))."""
        n, T, _ = X.shape
        P = len(np.asarray(self.basis.basis_levels))
        step = max(1, _CHUNK_FLOATS // (T * P))
        for i in range(0, n, step):
            Phi = np.asarray(self.basis.design_matrix(X[i:i + step]), dtype=np.float64)
            if Phi.ndim != 3 or Phi.shape[0] != len(X[i:i + step]) or Phi.shape[2] != P:
                raise ValueError(f"basis.design_matrix returned shape {Phi.shape}, expected "
                                 f"({len(X[i:i + step])}, T - window + 1, {P})")
            yield slice(i, i + step), Phi[:, -self.n_scored_:, columns].reshape(-1, len(columns))


def _nested_lstsq(m: Moments, sizes) -> list[np.ndarray]:
    """Least-squares coefficients on the leading ``k`` features, for each k in ``sizes``.

    One Cholesky factor serves every k: the leading block of the factor of G is the
    factor of G's leading block. A jitter of 1e-12 times the mean diagonal keeps it
    defined for (near) rank-deficient G; if it still fails, minimum-norm lstsq.
    """
    p = int(max(sizes))
    G = m.G[:p, :p]
    jitter = 1e-12 * max(np.trace(G) / p, np.finfo(float).tiny)
    try:
        c = scipy.linalg.cholesky(G + jitter * np.eye(p), lower=True)
    except np.linalg.LinAlgError:
        return [scipy.linalg.lstsq(G[:k, :k], m.b[:k])[0] for k in sizes]
    return [scipy.linalg.cho_solve((c[:k, :k], True), m.b[:k]) for k in sizes]
