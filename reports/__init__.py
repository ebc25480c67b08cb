"""Figures and PDF reports of rate studies (and PDF reports of capability studies).

>>> from nprates.analysis import simulate_curves
>>> from nprates.reports import build_report, plot_rates
>>> table = simulate_curves({"ssm": 0.6, "transformer": 0.62}, replicates=4, seed=0)
>>> fig = plot_rates(table)                               # doctest: +SKIP
>>> report = build_report(table, "report.pdf")            # doctest: +SKIP
>>> report.pages                                          # doctest: +SKIP
['Convergence rates: simulated', 'Rate curves', 'Convergence exponents', ...]

Figures: ``plot_rates`` (risk against n, log-log), ``plot_exponents`` (forest plot against
the theory), ``plot_comparison`` (pairwise exponent differences and risk ratios),
``plot_diagnostics`` (local slopes, training loss, optimisation gap, failed and
cap-limited cells, fit times), ``plot_importance`` (token importance of example
sequences and its profile over lags, from ``nprates.estimators.importance``),
``plot_recovery`` (selection recovery against n beside risk); each draws on a given
matplotlib ``ax`` or a new Figure and returns the Figure. The report's pages are drawn by
these functions.

Report sections (``build_report(..., sections=...)``): title, rates, recovery (only where
cells carry selection recovery), exponents, comparisons, diagnostics, notes. A capability
study (rows with a ``task``) gets a title page with parameter counts and one page per task
of accuracy against the swept parameter instead (sections title, accuracy). Every statistic comes from ``nprates.analysis``; an
estimator has the same colour (Okabe-Ito, colour-blind safe) and marker on every page.
"""

from .build import CAPABILITY_SECTIONS, SECTIONS, Report, build_report
from .figures import (plot_comparison, plot_diagnostics, plot_exponents, plot_importance,
                      plot_rates, plot_recovery)
from .style import PALETTE, estimator_styles, report_style

__all__ = ["build_report", "Report", "SECTIONS", "CAPABILITY_SECTIONS", "plot_rates",
           "plot_exponents", "plot_comparison", "plot_diagnostics", "plot_importance",
           "plot_recovery", "PALETTE", "estimator_styles", "report_style"]
