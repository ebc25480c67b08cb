"""Targets from the piecewise gamma-smooth class: input-dependent smoothness (docs/theory.md section 5).

Each token is split into an importance part and a content part:

- feature 0: the key u in [0, 1];
- feature 1 (``importance="query-key"`` only): the query feature s in [0, 1];
- the remaining ``smoothness.features`` features: the content z.

The importance of token j in the window of position t is mu_j = u_j (``"local"``) or
mu_j = q(x_t) * u_j with q(x_t) = 2 s_t - 1 (``"query-key"``: the newest token, the
query, decides whether large or small keys matter). The K = ``smoothness.window`` most
important tokens, in decreasing importance, feed a gamma-smooth g of their contents:
F_t(X) = g(z_{pi(1)}, ..., z_{pi(K)}). The smoothness of feature i of the k-th most
important token is the k-th smallest group of a-values, so the most important token is
the roughest.

Sampler (separation and bounded density by construction). The key axis is cut into
C = ``cells`` cells of width 1/C. Token t's cell c_t is uniform among the cells not used
by the previous W - 1 tokens, and u_t = (c_t + rho U_t) / C with U_t uniform. So:

- the keys of any W consecutive tokens lie in distinct cells: consecutive importances
  differ by at least (1 - rho) / C (times 2 * query_margin for query-key, where s
  avoids (1/2 - m, 1/2 + m)); this is ``margin``;
- the cell process is invariant under relabelling the cells, so every token's cell is
  uniform on the C cells and the key's marginal density is 1/rho on the covered part of
  each cell, 0 in the gaps (``key_density_bound``);
- with C > W a token's own key does not decide its rank: whether the token in cell c
  ranks first depends on the cells its neighbours drew (comparative selection). With
  C = W the cells repeat with period W, the top cell is always occupied and a threshold
  on one key decides the selection: that design is allowed only for comparison.
"""

from __future__ import annotations

import numpy as np

from nprates.smoothness import Smoothness
from nprates.targets.base import SequenceTarget, check_count
from nprates.targets.gamma_smooth import apply_bound, checked_truncation
from nprates.targets.trig_series import boundary_series

IMPORTANCES = ("local", "query-key")


class PiecewiseGammaSmooth(SequenceTarget):
    """A target with dynamic token selection, at the boundary of the class.

    Parameters
    ----------
    smoothness : Smoothness
        ``features`` = content features d per token; ``window`` = K, the number of tokens
        selected. Its a-values are reassigned so that a grows with the importance rank.
    window : int >= K
        W, the number of most recent tokens competing for selection.
    importance : "local" or "query-key"
    t_max, norm, bound, seed, max_basis
        As for GammaSmooth, for the function g of the selected contents.
    cells : int >= W, optional
        C, the number of key cells. Default 2 W. C = W gives the periodic design in which
        selection needs no comparison between tokens (for comparison only).
    rho : float in (0, 1)
        Width of the part of each cell a key can fall in, as a fraction of the cell.
    query_margin : float in (0, 1/2)
        The sampler keeps the query feature s at least this far from 1/2.

    Attributes
    ----------
    features : int
        Token dimension: 1 + d (local) or 2 + d (query-key).
    n_selected : int
        K.
    g : TrigSeries
        The gamma-smooth function of the selected contents, on windows (m, K, d) whose
        axis 1 is the importance rank (0 = most important).
    margin : float
        Guaranteed gap between consecutive importances in every window of sampled tokens.
    key_density_bound : float
        1 / rho, the largest value of the key's marginal density under the sampler.
    n_basis : int
        Number of basis functions of g.
    basis_levels : (n_basis,) float
        gamma(s) of each basis function's block (with ``design_matrix``, the true basis
        that ``OracleProjection(basis=target)`` fits by least squares).
    """

    def __init__(self, smoothness, window=16, importance="local", t_max=None, norm=1.0,
                 bound=None, seed=0, cells=None, rho=0.5, query_margin=0.1, max_basis=200_000):
        self.t_max, norm, max_basis = checked_truncation(smoothness, t_max, norm, max_basis)
        self.window = check_count(window, "window")
        if self.window < smoothness.window:
            raise ValueError(f"window={window} must be >= the number of selected tokens "
                             f"K = smoothness.window = {smoothness.window}")
        if importance not in IMPORTANCES:
            raise ValueError(f"importance must be one of {IMPORTANCES}, got {importance!r}")
        self.cells = 2 * self.window if cells is None else check_count(cells, "cells")
        if self.cells < self.window:
            raise ValueError(f"cells={cells} must be >= window={self.window}: the keys of a "
                             f"window must lie in distinct cells")
        if not 0 < rho < 1:
            raise ValueError(f"rho must be in (0, 1), got {rho!r}")
        if not 0 < query_margin < 0.5:
            raise ValueError(f"query_margin must be in (0, 0.5), got {query_margin!r}")
        self.smoothness = smoothness
        self.importance = importance
        self.rho = float(rho)
        self.query_margin = float(query_margin)
        self.seed = int(seed)
        self.n_selected = smoothness.window
        self.content_features = smoothness.features
        self._content = 2 if importance == "query-key" else 1
        self.features = self._content + self.content_features
        d, K = smoothness.features, smoothness.window
        # rank r (1-based) goes to feature (r-1) % d of the ((r-1) // d)-th most important token
        by_rank = np.arange(1, d * K + 1).reshape(K, d).T
        self.rank_smoothness = Smoothness(smoothness.kind, smoothness.a0, smoothness.alpha,
                                          features=d, window=K, ranks=by_rank)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed))
        self.g, self.blocks, self.block_gamma, block_of = boundary_series(
            self.rank_smoothness.a, smoothness.kind, self.t_max, norm, rng, max_basis)
        self.basis_levels = self.block_gamma[block_of]
        self.class_norm = norm * apply_bound(self.g, bound)
        self.bound = bound
        scale = 2 * self.query_margin if importance == "query-key" else 1.0
        self.margin = (1 - self.rho) / self.cells * scale
        self.key_density_bound = 1.0 / self.rho

    @property
    def n_basis(self) -> int:
        return self.g.coefficients.size

    @property
    def coefficients(self) -> np.ndarray:
        """Coefficients of g's basis functions, in the column order of ``design_matrix``."""
        return self.g.coefficients

    def importance_scores(self, X) -> np.ndarray:
        """mu for every full window: X (n, T, F) -> (n, T - W + 1, W), window oldest first."""
        X = self.check_inputs(X)
        return self._scores(X)

    def _scores(self, X):
        from nprates.estimators.windows import scored_windows  # torch: see check_inputs

        win = scored_windows(X, X.shape[1] - self.burn_in, self.window)  # (n, P, W, F)
        keys = win[..., 0]
        if self.importance == "local":
            return keys
        query = 2.0 * win[:, :, -1, 1] - 1.0
        return query[..., None] * keys

    def selection(self, X) -> np.ndarray:
        """Lags of the K selected tokens, most important first: X (n, T, F) -> (n, T, K) int.

        Lag 0 is the newest token of the window (the position itself); ties go to the
        newer token. The first W - 1 positions have no full window and hold -1.
        """
        X = self.check_inputs(X)
        n, T, _ = X.shape
        out = np.full((n, T, self.n_selected), -1, dtype=int)
        out[:, self.burn_in:] = self._selection(X)
        return out

    def _selection(self, X):
        """Selected lags at the positions with a full window: (n, T - W + 1, K)."""
        scores = self._scores(X)[..., ::-1]  # lag order: newest first
        order = np.argsort(-scores, axis=-1, kind="stable")
        return order[..., :self.n_selected]

    def _selected_contents(self, X):
        """Contents of the selected tokens, rank order: (n * (T - W + 1), K, d)."""
        n, T, _ = X.shape
        positions = np.arange(self.burn_in, T)[None, :, None] - self._selection(X)
        content = X[np.arange(n)[:, None, None], positions, self._content:]  # (n, P, K, d)
        return content.reshape(-1, self.n_selected, self.content_features)

    def _evaluate_windows(self, X):
        return self.g(self._selected_contents(X)).reshape(X.shape[0], -1)

    def design_matrix(self, X) -> np.ndarray:
        """g's basis functions on the truly selected tokens: X (n, T, F) -> (n, T - W + 1, P).

        ``target(X)[:, W-1:] == design_matrix(X) @ coefficients``: least squares on these
        columns knows the selection but not the coefficients (the piecewise oracle).
        """
        X = self.check_inputs(X)
        return self.g.design(self._selected_contents(X)).reshape(X.shape[0], -1, self.n_basis)

    def _draw_cells(self, n, T, rng):
        """Key cells (n, T): each uniform among the cells unused by the previous W - 1."""
        cells = np.empty((n, T), dtype=int)
        rows = np.arange(n)
        for t in range(T):
            draw = rng.random((n, self.cells))
            recent = cells[:, max(0, t - self.window + 1):t]
            draw[rows[:, None], recent] = -1.0  # used cells never win the argmax
            cells[:, t] = np.argmax(draw, axis=1)
        return cells

    def _draw_tokens(self, n, T, rng):
        cells = self._draw_cells(n, T, rng)
        X = rng.random((n, T, self.features))
        X[..., 0] = (cells + self.rho * X[..., 0]) / self.cells
        if self.importance == "query-key":
            s = X[..., 1] * (1 - 2 * self.query_margin)
            X[..., 1] = np.where(s < 0.5 - self.query_margin, s, s + 2 * self.query_margin)
        return X

    def __repr__(self) -> str:
        return (f"PiecewiseGammaSmooth({self.smoothness!r}, window={self.window}, "
                f"importance={self.importance!r}, cells={self.cells}, n_basis={self.n_basis}, "
                f"seed={self.seed})")
