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

Separation by construction (sampler): u_j = (perm(j mod W) + rho U_j) / W with a random
permutation per sequence and U_j uniform, so the keys of any W consecutive tokens lie in
distinct cells of width 1/W and consecutive importances differ by at least
(1 - rho) / W (times 2 * query_margin for query-key, where s avoids (1/2 - m, 1/2 + m)).
Every marginal density stays bounded.
"""

from __future__ import annotations

import numpy as np

from nprates.estimators.windows import scored_windows
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
    rho : float in [0, 1)
        Jitter of the keys within their cells (the sampler's separation parameter).
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
        Guaranteed gap between consecutive importances of sampled sequences.
    """

    def __init__(self, smoothness, window=16, importance="local", t_max=None, norm=1.0,
                 bound=None, seed=0, rho=0.5, query_margin=0.1, max_basis=200_000):
        self.t_max, norm, max_basis = checked_truncation(smoothness, t_max, norm, max_basis)
        self.window = check_count(window, "window")
        if self.window < smoothness.window:
            raise ValueError(f"window={window} must be >= the number of selected tokens "
                             f"K = smoothness.window = {smoothness.window}")
        if importance not in IMPORTANCES:
            raise ValueError(f"importance must be one of {IMPORTANCES}, got {importance!r}")
        if not 0 <= rho < 1:
            raise ValueError(f"rho must be in [0, 1), got {rho!r}")
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
        self.g, self.blocks, self.block_gamma, _ = boundary_series(
            self.rank_smoothness.a, smoothness.kind, self.t_max, norm, rng, max_basis)
        self.class_norm = norm * apply_bound(self.g, bound)
        self.bound = bound
        scale = 2 * self.query_margin if importance == "query-key" else 1.0
        self.margin = (1 - self.rho) / self.window * scale

    @property
    def n_basis(self) -> int:
        return self.g.coefficients.size

    def importance_scores(self, X) -> np.ndarray:
        """mu for every full window: X (n, T, F) -> (n, T - W + 1, W), window oldest first."""
        X = self.check_inputs(X)
        return self._scores(X)

    def _scores(self, X):
        win = scored_windows(X, X.shape[1] - self.burn_in, self.window)  # (n, P, W, F)
        keys = win[..., 0]
        if self.importance == "local":
            return keys
        query = 2.0 * win[:, :, -1, 1] - 1.0
        return query[..., None] * keys

    def selection(self, X) -> np.ndarray:
        """Lags of the K selected tokens, most important first: (n, T - W + 1, K) int.

        Lag 0 is the newest token of the window; ties go to the newer token.
        """
        X = self.check_inputs(X)
        return self._selection(X)

    def _selection(self, X):
        scores = self._scores(X)[..., ::-1]  # lag order: newest first
        order = np.argsort(-scores, axis=-1, kind="stable")
        return order[..., :self.n_selected]

    def _evaluate_windows(self, X):
        n, T, _ = X.shape
        lags = self._selection(X)  # (n, P, K)
        positions = np.arange(self.burn_in, T)[None, :, None] - lags
        content = X[np.arange(n)[:, None, None], positions, self._content:]  # (n, P, K, d)
        values = self.g(content.reshape(-1, self.n_selected, self.content_features))
        return values.reshape(n, -1)

    def _draw_tokens(self, n, T, rng):
        W = self.window
        perms = np.argsort(rng.random((n, W)), axis=1)
        cells = perms[:, np.arange(T) % W]
        X = rng.random((n, T, self.features))
        X[..., 0] = (cells + self.rho * X[..., 0]) / W
        if self.importance == "query-key":
            s = X[..., 1] * (1 - 2 * self.query_margin)
            X[..., 1] = np.where(s < 0.5 - self.query_margin, s, s + 2 * self.query_margin)
        return X

    def __repr__(self) -> str:
        return (f"PiecewiseGammaSmooth({self.smoothness!r}, window={self.window}, "
                f"importance={self.importance!r}, n_basis={self.n_basis}, seed={self.seed})")
