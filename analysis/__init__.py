"""Convergence exponents with confidence intervals, comparisons and theory checks.

Works from a results table (``nprates.analysis.schema``: one row per fitted model) alone,
given as a DataFrame or read from a results directory with ``read_results_dir``:

>>> from nprates.analysis import simulate_curves, fit_rate, compare_rates, check_theory
>>> table = simulate_curves(0.6, replicates=5, noise=0.2, seed=1)
>>> fit = fit_rate(table)
>>> print(fit.summary())                              # doctest: +SKIP
>>> check_theory(fit, 0.6).verdict
'consistent'

Modules: ``schema`` (the table), ``layout`` (rows arranged for a fit), ``methods`` (a
package: the fit methods by name, one class per module ``methods.loglog``,
``methods.offset``, ``methods.polylog`` on the base ``methods.base.FitMethod``),
``bootstrap`` and ``intervals`` (standard errors, t intervals),
``contrasts``, ``diagnostics`` (local exponents, curvature, optimisation), ``rates``
(``fit_rate``), ``fit_table`` (``fit_all``), ``theory``, ``compare``, ``simulate``,
``capability``, ``planning`` (``plan_study``), ``stacking`` (several studies in one
table), ``completeness``, ``ordering``, ``results_dir``, ``summary`` and ``formatting`` (text, LaTeX, HTML, JSON).
"""

from .capability import format_capability_table, is_capability, summarize_capability
from .compare import RateComparison, compare_rates, risk_ratios
from .fit_table import FIT_ALL_COLUMNS, fit_all, format_fit_table
from .formatting import jsonable
from .intervals import t_interval, t_pvalue, tost_pvalue
from .layout import InsufficientData
from .methods import METHODS, FitMethod, LogLog, Offset, PolyLog
from .planning import plan_study
from .rate_fit import RateFit
from .rates import fit_rate
from .results_dir import read_results_dir
from .schema import validate_results
from .simulate import CoverageResult, coverage, default_sizes, simulate_curves
from .stacking import stack_studies
from .summary import Summary
from .theory import TheoryCheck, check_theory

__all__ = [
    "fit_rate", "fit_all", "format_fit_table", "compare_rates", "risk_ratios", "check_theory",
    "simulate_curves", "coverage", "RateFit", "RateComparison", "TheoryCheck",
    "CoverageResult", "Summary", "FitMethod", "LogLog", "Offset", "PolyLog", "METHODS",
    "InsufficientData", "FIT_ALL_COLUMNS", "validate_results", "default_sizes", "t_interval",
    "t_pvalue", "tost_pvalue", "jsonable", "is_capability", "summarize_capability",
    "format_capability_table", "read_results_dir", "plan_study", "stack_studies",
]
