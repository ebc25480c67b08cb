"""Direction-dependent smoothness specs and the theoretical exponent (docs/theory.md section 3)."""

from __future__ import annotations

import math

import numpy as np

KINDS = ("mixed", "anisotropic")


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _finite_number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


class Smoothness:
    """Smoothness a_c = a0 * rank(c)^alpha over the directions c = (feature i, lag j).

    Parameters
    ----------
    kind : "mixed" or "anisotropic"
        Mixed: gamma(s) = sum_c a_c s_c and a_dagger = min_c a_c.
        Anisotropic: gamma(s) = max_c a_c s_c and a_dagger = (sum_c 1/a_c)^-1.
    a0 : float > 0
        Smoothness of the roughest direction (rank 1).
    alpha : float >= 0
        Growth of the smoothness with the rank (the weak-l^alpha sparsity of docs/theory.md).
    features : int >= 1
        Token dimension d.
    window : int >= 1
        Number of lags V (j = 0 is the newest token).
    ranks : array of shape (features, window), optional
        A permutation of 1..d*V giving each direction's rank. Default: a seeded random
        permutation, so the roughest direction need not be the newest token.
    seed : int
        Seed of that permutation.

    Attributes
    ----------
    a : ndarray (features, window), float64
        The smoothness of each direction; ``a[i, j]`` belongs to feature i at lag j.
    ranks : ndarray (features, window), int
    a_dagger : float
        The effective smoothness.
    exponent : float
        The theoretical exponent 2 a_dagger / (2 a_dagger + 1) of the risk in n.
    """

    def __init__(self, kind="mixed", a0=1.0, alpha=1.0, features=2, window=8, ranks=None, seed=0):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.a0 = _finite_number(a0, "a0")
        if self.a0 <= 0:
            raise ValueError(f"a0 must be > 0, got {a0}")
        self.alpha = _finite_number(alpha, "alpha")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        self.features = _positive_int(features, "features")
        self.window = _positive_int(window, "window")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        self.seed = int(seed)
        n_dir = self.features * self.window
        if ranks is None:
            perm = np.random.default_rng(np.random.SeedSequence(self.seed)).permutation(n_dir)
            self.ranks = (perm + 1).reshape(self.features, self.window)
        else:
            arr = np.asarray(ranks)
            if arr.shape != (self.features, self.window):
                raise ValueError(f"ranks must have shape (features, window) = "
                                 f"{(self.features, self.window)}, got {arr.shape}")
            if not np.array_equal(np.sort(arr.ravel()), np.arange(1, n_dir + 1)):
                raise ValueError(f"ranks must be a permutation of 1..{n_dir}")
            self.ranks = arr.astype(int)
        self.a = self.a0 * self.ranks.astype(np.float64) ** self.alpha

    @property
    def a_dagger(self) -> float:
        if self.kind == "mixed":
            return float(self.a.min())
        return float(1.0 / np.sum(1.0 / self.a))

    @property
    def exponent(self) -> float:
        a = self.a_dagger
        return 2.0 * a / (2.0 * a + 1.0)

    def gamma(self, s: np.ndarray) -> np.ndarray:
        """gamma(s) for block indices ``s`` of shape (..., features, window)."""
        weighted = np.asarray(s) * self.a
        axes = (-2, -1)
        return weighted.sum(axis=axes) if self.kind == "mixed" else weighted.max(axis=axes)

    def important_directions(self, t_max: float) -> list[tuple[int, int]]:
        """Directions (feature, lag) with a_c <= t_max, roughest first.

        Only these can carry a non-constant block under truncation at ``t_max``.
        """
        order = np.argsort(self.a, axis=None, kind="stable")
        return [(int(i), int(j)) for i, j in zip(*np.unravel_index(order, self.a.shape))
                if self.a[i, j] <= t_max + 1e-12]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "a0": self.a0, "alpha": self.alpha, "features": self.features,
                "window": self.window, "ranks": self.ranks.tolist(), "seed": self.seed}

    def __repr__(self) -> str:
        return (f"Smoothness(kind={self.kind!r}, a0={self.a0}, alpha={self.alpha}, "
                f"features={self.features}, window={self.window}, seed={self.seed})")


def theoretical_exponent(smoothness) -> float:
    """The exponent beta* = 2 a_dagger / (2 a_dagger + 1) of the minimax rate n^-beta*.

    Accepts a Smoothness, anything with a ``smoothness`` attribute (a target), or a
    number taken as a_dagger.
    """
    spec = getattr(smoothness, "smoothness", smoothness)
    if isinstance(spec, Smoothness):
        return spec.exponent
    a = _finite_number(spec, "smoothness")
    if a <= 0:
        raise ValueError(f"a_dagger must be > 0, got {a}")
    return 2.0 * a / (2.0 * a + 1.0)


def recommended_t_max(smoothness: Smoothness, n_max: int = 2 ** 14) -> float:
    """Truncation level (a_dagger / (2 a_dagger + 1)) log2(n_max) + 3 of docs/theory.md section 4.

    The truncated tail then lies far below every risk measured up to ``n_max`` samples.
    """
    n_max = _positive_int(n_max, "n_max")
    a = smoothness.a_dagger
    return a / (2 * a + 1) * math.log2(n_max) + 3.0
