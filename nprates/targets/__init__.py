"""Target functions: callables X (n, T, d) -> (n, T) with seeded samplers."""

from nprates.targets.base import SequenceTarget
from nprates.targets.gamma_smooth import GammaSmooth
from nprates.targets.piecewise import PiecewiseGammaSmooth
from nprates.targets.trig_series import TrigSeries, psi

__all__ = ["SequenceTarget", "GammaSmooth", "PiecewiseGammaSmooth", "TrigSeries", "psi"]
