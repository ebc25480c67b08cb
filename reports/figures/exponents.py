"""``plot_exponents``: a forest plot of every fitted exponent against the theory's."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from .. import style
from ..verdicts import excluded_sizes, verdict
from .common import axes_list, report_data, report_styled
from .text_table import draw_text_table, table_width

#: The table's font size, in points.
TABLE_FONTSIZE = 9.5


def _left_out_cell(fit) -> str:
    sizes = excluded_sizes(fit)
    if not sizes:
        return "-"
    return ", ".join(str(n) for n in sizes) if len(sizes) <= 3 else f"{len(sizes)} sizes"


def _table(data, items) -> tuple[list, list]:
    """The heads and rows of the numbers beside the forest: exponent, interval, cells, sizes
    left out, verdict."""
    heads = ["exponent", f"{data.level:g} interval", "ok/all", "left out", "verdict"]
    rows = []
    for it in items:
        f = it.fit
        # "status (reason)": the reason on a second, smaller line
        status, _, reason = verdict(it).partition(" (")
        judged = (status + f"\n({reason}", {"fontsize": TABLE_FONTSIZE - 1, "linespacing": 1.1}
                  ) if reason else status
        if f is None:
            rows.append(["-", "", "", "", judged])
        else:
            rows.append([f"{f.exponent:.3f}", style.fmt_ci(*f.ci),
                         f"{f.n_ok}/{f.n_ok + f.n_failed}", _left_out_cell(f), judged])
    return heads, rows


def draw_exponents(ax, data, items, txt=None) -> None:
    """The forest of ``items`` (``data.Fit``s, in order) on ``ax``; with ``txt``, the table of
    their numbers on that axes (sharing ``ax``'s y axis)."""
    multi = len({it.target for it in items}) > 1 or len(data.targets) > 1
    ys, labels, colors = [], [], []
    y = 0
    xs = []
    group_start = {}
    for it in items:
        if multi and it.target not in group_start and group_start:
            y += 0.6
        group_start.setdefault(it.target, y)
        ys.append(y)
        labels.append(f"{it.target} / {it.estimator}" if multi else it.estimator)
        colors.append(data.styles[it.estimator]["color"])
        y += 1
    for it, yy in zip(items, ys):
        st = data.styles[it.estimator]
        f = it.fit
        if f is not None:
            lo, hi = f.ci
            ax.plot([lo, hi], [yy, yy], color=st["color"], lw=2.4, solid_capstyle="butt")
            ax.plot([f.exponent], [yy], marker=st["marker"], color=st["color"], ms=8,
                    mec="white", mew=0.8)
            xs += [lo, hi, f.exponent]
        else:
            ax.text(0.02, yy, "no fit", color=st["color"], va="center", fontsize=9,
                    transform=ax.get_yaxis_transform())
    # the theoretical exponent, per target group
    for t, y0 in group_start.items():
        th = data.theory_exponent(t)
        ylast = max(yy for it, yy in zip(items, ys) if it.target == t)
        if math.isfinite(th):
            ax.plot([th, th], [y0 - 0.45, ylast + 0.45], ls="--", color=style.THEORY_COLOR,
                    lw=1.3, zorder=0)
            ax.text(th, y0 - 0.5, f" theory {th:.3f}", ha="left", va="bottom", fontsize=8.5,
                    color=style.THEORY_COLOR)
            xs.append(th)
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    for lab, c in zip(ax.get_yticklabels(), colors):
        lab.set_color(c)
        lab.set_fontweight("bold")
    if ys:
        ax.set_ylim(max(ys) + 0.7, min(ys) - 1.1)
    xs = [v for v in xs if np.isfinite(v)]
    if xs:
        lo, hi = max(min(xs), -1.5), min(max(xs), 3.0)
        pad = max(0.05, 0.08 * (hi - lo))
        ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel("exponent β  (risk ~ n^-β; larger = faster convergence)")
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    if txt is not None:
        heads, rows = _table(data, items)
        draw_text_table(txt, heads, rows, ys, (min(ys) - 1.0) if ys else 0, TABLE_FONTSIZE)
        txt.set_ylim(ax.get_ylim())  # rows line up with the forest whether or not y is shared


@report_styled
def plot_exponents(results, rows=None, *, ax=None, **options):
    """Forest plot: each estimator's exponent β with its interval against the theory's.

    Parameters
    ----------
    results : a results table, a results directory, or a report's ``Report.data``.
    rows : the (target, estimator) pairs to show, in order (default: all, by target).
    ax : None (a new Figure with the forest and its table), one Axes (the forest alone),
        or two axes (the forest, then the table of exponent, interval, cells, sizes left
        out of the fit and the verdict against the theory; it shares the forest's y axis).
    **options : how exponents are fitted, as for ``build_report``.

    Dashed lines mark the theoretical exponent of each target. Returns the Figure.
    """
    data = report_data(results, **options)
    everything = [(t, e) for t in data.targets for e in data.estimators_of(t)]
    keys = everything if rows is None else [(str(t), str(e)) for t, e in rows]
    missing = [k for k in keys if k not in data.fits]
    if missing:
        raise ValueError(f"rows: no (target, estimator) {missing[0]} in the results")
    items = [data.fits[k] for k in keys]
    if ax is None:
        # the table's axes as wide as its text, the forest's 5 inches, 3 for the labels
        table = table_width(*_table(data, items), TABLE_FONTSIZE) / 72 + 0.2
        fig = Figure(figsize=(8.0 + table, 1.2 + 0.42 * max(len(items), 3)),
                     layout="constrained")
        forest, txt = fig.subplots(1, 2, sharey=True, width_ratios=(5.0, table))
    else:
        axes = axes_list(ax, 1 if np.size(ax) == 1 else 2,
                         "panels (forest, table)")
        forest, txt = (axes + [None])[:2]
    draw_exponents(forest, data, items, txt)
    return forest.figure
