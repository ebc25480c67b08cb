"""Selection recovery against n beside risk against n (networks on piecewise targets)."""

from __future__ import annotations

from nprates.analysis.recovery import recovery_by_size
from nprates.reports import style

from .common import axes_list, grid_figure
from ..data import ReportData, load_input


def recovery_targets(table) -> list:
    """The targets of a results table whose cells carry selection recovery."""
    return sorted(set(recovery_by_size(table)["target"])) if "recovery_top1" in table else []


def plot_recovery(results, target, *, ax=None, level: float = 0.95):
    """Risk against n (left, log-log) and rank-1 selection recovery against n (right).

    Parameters
    ----------
    results : a results table, a results directory, or a report's ``Report.data``.
    target : the target to draw (one whose cells carry recovery: ``recovery_targets``).
    ax : a sequence of two matplotlib Axes (risk, recovery); default a new Figure.
    level : interval level over cells.

    Per estimator with recovery: the mean risk at each n; the mean rank-1 recovery over
    cells with its interval. Grey lines: chance (dashed, uniform over the window), 1
    (dotted) and half-way between them (dash-dot). Only sizes whose cells carry recovery
    are drawn. Returns the Figure.
    """
    table = results.table if isinstance(results, ReportData) else load_input(results)[0]
    by_size = recovery_by_size(table, level)
    rows = by_size[by_size.target == target] if len(by_size) else by_size
    if not len(rows):
        raise ValueError(f"target {target!r} has no cells with selection recovery (networks "
                         f"on a piecewise target)")
    axes = axes_list(ax, 2, "panels (risk, recovery)")
    if not axes:
        _, axes = grid_figure(2, cols=2, panel_size=(5.0, 3.8))
    risk_ax, rec_ax = axes
    estimators = style.order_estimators(sorted(set(rows.estimator)))
    styles = style.estimator_styles(estimators)
    for est in estimators:
        r = rows[rows.estimator == est].sort_values("n")
        kw = dict(color=styles[est]["color"], marker=styles[est]["marker"], label=est)
        risk_ax.plot(r.n, r.risk, **kw)
        rec_ax.fill_between(r.n, r.top1_low, r.top1_high, color=kw["color"], alpha=0.2,
                            linewidth=0)
        rec_ax.plot(r.n, r.top1, **kw)
    chance = float(rows.top1_chance.mean())
    rec_ax.axhline(chance, color=style.GREY, linestyle="--", linewidth=1, label="chance")
    rec_ax.axhline((1 + chance) / 2, color=style.GREY, linestyle="-.", linewidth=0.8,
                   label="half-way")
    rec_ax.axhline(1.0, color=style.GREY, linestyle=":", linewidth=1)
    for a in axes:
        a.set_xscale("log")
        a.set_xlabel("n (training sequences)")
    risk_ax.set_yscale("log")
    risk_ax.set_ylabel("excess risk (mean over cells)")
    rec_ax.set_ylabel("rank-1 selection recovery")
    rec_ax.set_ylim(0, 1.02)
    rec_ax.set_xlim(*risk_ax.get_xlim())
    risk_ax.set_title(f"{target}: risk")
    rec_ax.set_title(f"{target}: recovery ({', '.join(sorted(set(rows.importance_method)))})")
    rec_ax.legend(frameon=False, fontsize="small")
    return risk_ax.figure

