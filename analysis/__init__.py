"""Convergence exponents with confidence intervals, comparisons and theory checks.

Works from a results table (``nprates.analysis.schema``: one row per fitted model) alone,
given as a DataFrame or read from a results directory with ``read_results_dir``:

>>> from nprates.analysis import simulate_curves, fit_rate, compare_rates, check_theory
>>> table = simulate_curves(0.6, replicates=5, noise=0.2, seed=1)
>>> fit = fit_rate(table)
>>> print(fit.summary())                              # doctest: +SKIP
>>> check_theory(fit, 0.6).status
'consistent'
"""

from ._core import t_interval
from .capability import is_capability, summarize_capability
from .compare import RateComparison, compare_rates
from .rates import METHODS, RateFit, fit_all, fit_rate
from .results_dir import read_results_dir
from .schema import validate_results
from .simulate import CoverageResult, coverage, default_sizes, simulate_curves
from .theory import TheoryCheck, check_theory

__all__ = [
    "fit_rate", "fit_all", "compare_rates", "check_theory", "simulate_curves", "coverage",
    "RateFit", "RateComparison", "TheoryCheck", "CoverageResult", "validate_results",
    "default_sizes", "METHODS", "t_interval", "is_capability", "summarize_capability", "read_results_dir",
]
