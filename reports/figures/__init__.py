"""Figures of a rate study, each on its own or on axes the caller gives; the PDF report's
pages are drawn by these same functions.

Each takes a results table (or a results directory, or a report's ``Report.data`` to reuse
its fits), an optional matplotlib ``ax`` (or a sequence of axes where the figure has
several panels), and returns the Figure. They draw with the current matplotlib settings;
``nprates.reports.report_style()`` gives the report's.
"""

from .comparison import plot_comparison
from .diagnostics import plot_diagnostics
from .exponents import plot_exponents
from .importance import plot_importance
from .rates import plot_rates
from .recovery import plot_recovery

__all__ = ["plot_rates", "plot_exponents", "plot_comparison", "plot_diagnostics",
           "plot_importance", "plot_recovery"]
