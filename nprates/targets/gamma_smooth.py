"""Targets from the gamma-smooth class: direction-dependent smoothness (docs/theory.md section 3-4)."""

from __future__ import annotations

import numpy as np

from nprates.smoothness import Smoothness, recommended_t_max
from nprates.targets.base import SequenceTarget, check_count, check_level
from nprates.targets.trig_series import boundary_series


def checked_truncation(smoothness, t_max, norm, max_basis) -> tuple[float, float, int]:
    """Validate the shared truncation arguments; t_max=None gives the recommended level."""
    if not isinstance(smoothness, Smoothness):
        raise ValueError(f"smoothness must be a nprates.Smoothness, got {type(smoothness).__name__}")
    t_max = recommended_t_max(smoothness) if t_max is None else check_level(t_max, "t_max")
    norm = check_level(norm, "norm")
    if norm > 1:
        raise ValueError(f"norm must be <= 1 (the class is the unit ball), got {norm}")
    return t_max, norm, check_count(max_basis, "max_basis")


def apply_bound(series, bound) -> float:
    """Rescale ``series`` so that |f| <= bound everywhere; returns the scale factor.

    Uses the guaranteed bound of ``TrigSeries.sup_bound``, so the bound always holds.
    """
    if bound is None:
        return 1.0
    scale = min(1.0, check_level(bound, "bound") / series.sup_bound())
    series.rescale(scale)
    return scale


class GammaSmooth(SequenceTarget):
    """A random target from the gamma-smooth class, at the boundary of the unit ball.

    F_t(X) = f(x_{t-V+1}, ..., x_t) with f a truncated trigonometric tensor series whose
    smoothness along direction (feature i, lag j) is ``smoothness.a[i, j]``.

    Parameters
    ----------
    smoothness : Smoothness
        Direction-dependent smoothness; its ``window`` is the V of the target.
    t_max : float, optional
        Truncation level: directions with a_c <= t_max, blocks with gamma(s) <= t_max.
        Default ``recommended_t_max(smoothness)`` (sized for n up to 2^14).
    norm : float in (0, 1]
        Class norm R of the sampled function.
    bound : float, optional
        Rescale so that |f| <= bound everywhere (the class norm shrinks accordingly).
    seed : int
        Seed of the random signs of the coefficients.
    max_basis : int
        Largest number of basis functions accepted; more is refused with a ValueError.

    Attributes
    ----------
    window, burn_in, features : int
        V, V - 1 and d.
    n_basis : int
        Number of basis functions P kept by the truncation.
    class_norm : float
        ||f|| in the class norm (``norm``, times the bound's scale if one applied).
    blocks : int array (B, d, V); block_gamma, block_norm : (B,)
        The dyadic blocks kept, gamma(s), and ||delta_s f||_2.
    block_index : (P,) int
        The block of each basis function.
    basis_levels : (P,) float
        gamma(s) of each basis function's block.
    coefficients : (P,) float
        Coefficients of the basis functions.
    multi_indices : int array (P, d, V)
        Frequencies of each basis function along each direction.
    """

    def __init__(self, smoothness, t_max=None, norm=1.0, bound=None, seed=0, max_basis=200_000):
        self.t_max, norm, max_basis = checked_truncation(smoothness, t_max, norm, max_basis)
        self.smoothness = smoothness
        self.seed = int(seed)
        self.window = smoothness.window
        self.features = smoothness.features
        rng = np.random.default_rng(np.random.SeedSequence(self.seed))
        self.series, self.blocks, self.block_gamma, self.block_index = boundary_series(
            smoothness.a, smoothness.kind, self.t_max, norm, rng, max_basis)
        scale = apply_bound(self.series, bound)
        self.bound = bound
        self.class_norm = norm * scale
        self.basis_levels = self.block_gamma[self.block_index]
        self.block_norm = np.sqrt(np.bincount(self.block_index, weights=self.coefficients ** 2,
                                              minlength=len(self.blocks)))

    @property
    def coefficients(self) -> np.ndarray:
        return self.series.coefficients

    @property
    def multi_indices(self) -> np.ndarray:
        return self.series.multi_indices

    @property
    def n_basis(self) -> int:
        return self.coefficients.size

    def norm_of(self, coefficients=None) -> float:
        """Class norm (sum_s 2^(2 gamma(s)) ||delta_s f||^2)^(1/2) of given coefficients."""
        c = self.coefficients if coefficients is None else np.asarray(coefficients)
        return float(np.sqrt(np.sum(2.0 ** (2 * self.basis_levels) * c ** 2)))

    def _newest_first(self, X: np.ndarray) -> np.ndarray:
        """Windows of every position with a full window, newest token first: (m, V, d)."""
        from nprates.estimators.windows import scored_windows  # torch: see check_inputs

        n, T, d = X.shape
        win = scored_windows(X, T - self.burn_in, self.window)[:, :, ::-1]
        return np.ascontiguousarray(win).reshape(-1, self.window, d)

    def _evaluate_windows(self, X):
        return self.series(self._newest_first(X)).reshape(X.shape[0], -1)

    def design_matrix(self, X) -> np.ndarray:
        """Basis values at positions V-1 .. T-1: X (n, T, d) -> (n, T - V + 1, P) float64.

        ``target(X)[:, V-1:] == design_matrix(X) @ coefficients``.
        """
        X = self.check_inputs(X)
        return self.series.design(self._newest_first(X)).reshape(X.shape[0], -1, self.n_basis)

    def _draw_tokens(self, n, T, rng):
        return rng.random((n, T, self.features))

    def __repr__(self) -> str:
        return (f"GammaSmooth({self.smoothness!r}, t_max={self.t_max:g}, "
                f"n_basis={self.n_basis}, seed={self.seed})")
