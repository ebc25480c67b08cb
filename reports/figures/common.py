"""What every figure function shares: its input (a results table, a results directory or
the analysis a report already holds) and the axes it draws on."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nprates.analysis import is_capability

from .. import style
from ..data import ReportData, load_input

#: Keyword options of the figure functions that choose how exponents are fitted and
#: compared (``nprates.analysis.fit_rate`` / ``compare_rates``; as ``build_report``).
FIT_OPTIONS = ("method", "level", "margin", "n_boot", "seed", "polylog_k")


def report_data(results, compare: bool = False, **options) -> ReportData:
    """The analysis a figure draws: ``results`` itself when it is a ``ReportData`` (a
    report's ``Report.data``), else the fits (and, with ``compare``, the comparisons) of a
    results table or directory, computed with ``options`` (``FIT_OPTIONS``)."""
    if isinstance(results, ReportData):
        if options:
            raise ValueError(f"fitting options ({', '.join(sorted(options))}) apply to a "
                             f"results table, not to an analysis already prepared")
        return results
    unknown = sorted(set(options) - set(FIT_OPTIONS))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)}; known: "
                         f"{', '.join(FIT_OPTIONS)}")
    table, study, source = load_input(results)
    if is_capability(table):
        raise ValueError("results hold a capability study (rows with a task): it has no "
                         "convergence rates to plot")
    return ReportData.prepare(table, study, source, compare=compare, **options)


def report_styled(plot):
    """Draw ``plot`` (a ``plot_*`` function) in the reports' style when it makes its own
    figure (``ax=None``), so a figure saved on its own looks as on a report's page; on
    axes of the caller's, the caller's style stays."""

    @functools.wraps(plot)
    def styled(*args, ax=None, **kwargs):
        if ax is not None:
            return plot(*args, ax=ax, **kwargs)
        with style.report_style():
            return plot(*args, ax=None, **kwargs)

    return styled


def one_target(data: ReportData, target) -> str:
    """``target`` checked against the data, or the only target when it is None."""
    if target is None:
        if len(data.targets) != 1:
            raise ValueError(f"target is required: the results hold {len(data.targets)} "
                             f"targets ({', '.join(data.targets)})")
        return data.targets[0]
    if str(target) not in data.targets:
        raise ValueError(f"target {target!r} is not in the results (targets: "
                         f"{', '.join(data.targets)})")
    return str(target)


def axes_list(ax, count: int, what: str) -> list:
    """``ax`` as a list of ``count`` axes (None: an empty list, the caller makes a figure).

    A sequence or a numpy array of axes (what ``plt.subplots`` returns, any shape) is
    read in row-major order.
    """
    if ax is None:
        return []
    if isinstance(ax, np.ndarray):
        ax = list(ax.ravel())
    axes = [ax] if isinstance(ax, Axes) else list(ax) if isinstance(ax, Sequence) else None
    if axes is None or not all(isinstance(a, Axes) for a in axes):
        raise ValueError(f"ax must be a matplotlib Axes or a sequence of them, got "
                         f"{type(ax).__name__}")
    if len(axes) != count:
        raise ValueError(f"ax: {len(axes)} axes given for {count} {what}")
    return axes


def grid_figure(count: int, cols: int, panel_size=(5.2, 4.0)) -> tuple:
    """A new Figure (not registered with pyplot) with ``count`` panels, ``cols`` a row."""
    cols = max(1, min(cols, count))
    rows = -(-count // cols)
    fig = Figure(figsize=(panel_size[0] * cols, panel_size[1] * rows), layout="constrained")
    return fig, [fig.add_subplot(rows, cols, i + 1) for i in range(count)]


def empty_axes_message(ax, text) -> None:
    """Turn ``ax`` into a centred grey message (a panel with nothing to draw)."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, color=style.GREY,
            transform=ax.transAxes, wrap=True)
