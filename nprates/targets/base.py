"""What every sequence target shares: evaluation contract, validation and sampling."""

from __future__ import annotations

import math

import numpy as np

from nprates.smoothness import Smoothness


def as_generator(rng) -> np.random.Generator:
    """A numpy Generator from None, an int seed, a SeedSequence or a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be None, an int seed, a SeedSequence or a Generator, got {rng!r}")


def check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_level(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


class SequenceTarget:
    """A shift-equivariant target F_t(X) = f(window of the ``window`` tokens ending at t).

    Subclasses set ``window``, ``features``, ``smoothness`` and implement
    ``_evaluate_windows`` and ``_draw_tokens``. Calling the target on X of shape (n, T, d) gives (n, T) with NaN at
    the first ``burn_in = window - 1`` positions, which have no full window.
    """

    window: int
    features: int
    smoothness: Smoothness
    chunk_sequences = 2048

    @property
    def burn_in(self) -> int:
        return self.window - 1

    @property
    def a_dagger(self) -> float:
        """Effective smoothness of the target's class (``smoothness.a_dagger``)."""
        return self.smoothness.a_dagger

    @property
    def exponent(self) -> float:
        """Theoretical exponent 2 a_dagger / (2 a_dagger + 1) of the class's minimax rate."""
        return self.smoothness.exponent

    def check_inputs(self, X) -> np.ndarray:
        # nprates.estimators imports torch: loaded on first use, so that `nprates theory`
        # and study validation, which only read smoothness facts, start in well under a second
        from nprates.estimators.windows import check_sequences

        X = check_sequences(X)
        if X.shape[2] != self.features:
            raise ValueError(f"X has {X.shape[2]} features per token but the target expects "
                             f"{self.features}")
        if X.shape[1] < self.window:
            raise ValueError(f"X has {X.shape[1]} tokens per sequence, fewer than the target's "
                             f"window of {self.window}")
        return X

    def __call__(self, X) -> np.ndarray:
        """Noise-free outputs: X (n, T, d) -> (n, T) float64, NaN at the burn-in positions."""
        X = self.check_inputs(X)
        n, T, _ = X.shape
        out = np.full((n, T), np.nan)
        for start in range(0, n, self.chunk_sequences):
            block = X[start:start + self.chunk_sequences]
            out[start:start + block.shape[0], self.burn_in:] = self._evaluate_windows(block)
        return out

    def sample(self, n, length, noise=0.0, rng=None):
        """Draw a training set of n sequences with ``length`` scored positions each.

        Returns ``(X, y, f)``: X (n, length + burn_in, d) tokens, y (n, length) noisy outputs
        f + noise * N(0, 1) and f (n, length) the noise-free outputs at the last ``length``
        positions. Tokens are drawn before the noise, so X does not depend on ``noise``.
        """
        n = check_count(n, "n")
        length = check_count(length, "length")
        if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)) \
                or not math.isfinite(noise) or noise < 0:
            raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
        gen = as_generator(rng)
        X = self._draw_tokens(n, length + self.burn_in, gen)
        f = self(X)[:, self.burn_in:]
        y = f + noise * gen.standard_normal(f.shape) if noise > 0 else f.copy()
        return X, y, f

    def test_set(self, n, length, rng=None):
        """A noise-free test set: ``(X, f)`` with X (n, length + burn_in, d), f (n, length)."""
        X, _, f = self.sample(n, length, noise=0.0, rng=rng)
        return X, f

    def _evaluate_windows(self, X: np.ndarray) -> np.ndarray:
        """Outputs at positions burn_in .. T-1 of validated X (n, T, d) -> (n, T - burn_in)."""
        raise NotImplementedError

    def _draw_tokens(self, n: int, T: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError
