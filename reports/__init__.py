"""PDF reports of rate studies (and of capability studies).

>>> from nprates.analysis import simulate_curves
>>> from nprates.reports import build_report
>>> table = simulate_curves({"ssm": 0.6, "transformer": 0.62}, replicates=4, seed=0)
>>> report = build_report(table, "report.pdf")            # doctest: +SKIP
>>> report.pages                                          # doctest: +SKIP
['Convergence rates: simulated', 'Rate curves', 'Convergence exponents', ...]

Pages: title, rate curves, exponents against the theory, pairwise comparisons,
diagnostics, notes. A capability study (rows with a ``task``) gets a title page with
parameter counts and one page per task of accuracy against the swept parameter
instead. Every statistic comes from ``nprates.analysis``; an estimator has the same colour
(Okabe-Ito, colour-blind safe) and marker on every page.
"""

from .build import SECTIONS, Report, build_report
from .style import PALETTE, estimator_styles

__all__ = ["build_report", "Report", "SECTIONS", "PALETTE", "estimator_styles"]
