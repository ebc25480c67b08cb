"""``plot_comparison``: pairwise comparisons of the estimators' exponents on one target."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from .. import style
from ..verdicts import tost_interval, tost_level
from .common import axes_list, empty_axes_message, one_target, report_data, report_styled
from .text_table import draw_text_table


def draw_ratios(ax, pairs, ys, level) -> None:
    """Heat map of the geometric-mean risk ratio a / b of each pair at each n (every pair,
    compared or not; plateau sizes included)."""
    tables = [p.risk_ratio for p in pairs]
    sizes = sorted({int(n) for r in tables if r is not None for n in r["n"]})
    if not sizes:
        empty_axes_message(ax, "no risk ratios")
        return
    M = np.full((len(pairs), len(sizes)), np.nan)
    sig = np.zeros_like(M, dtype=bool)
    for i, table in enumerate(tables):
        if table is None:
            continue
        for r in table.itertuples():
            j = sizes.index(int(r.n))
            M[i, j] = math.log2(r.ratio) if r.ratio > 0 else np.nan
            sig[i, j] = np.isfinite(r.ci_low) and (r.ci_low > 1 or r.ci_high < 1)
    vmax = max(1.0, float(np.nanmax(np.abs(M))) if np.isfinite(M).any() else 1.0)
    import seaborn as sns

    cmap = sns.color_palette("vlag", as_cmap=True)
    norm = Normalize(-vmax, vmax)
    x = np.arange(len(sizes) + 1) - 0.5
    y = np.array([ys[0] - 0.5] + [v + 0.5 for v in ys])
    ax.pcolormesh(x, y, np.ma.masked_invalid(M), cmap=cmap, norm=norm, edgecolors="white",
                  linewidth=1.0)
    size = 9 if len(sizes) <= 7 else 7.5
    for i in range(len(pairs)):
        for j in range(len(sizes)):
            if not np.isfinite(M[i, j]):
                ax.text(j, ys[i], "-", ha="center", va="center", fontsize=size, color=style.GREY)
                continue
            ratio = 2 ** M[i, j]
            dark = abs(M[i, j]) > 0.6 * vmax
            digits = 2 if ratio < 10 else 1 if ratio < 100 else 0  # as wide as "0.39*"
            ax.text(j, ys[i], f"{ratio:.{digits}f}" + ("*" if sig[i, j] else ""), ha="center",
                    va="center", fontsize=size, color="white" if dark else "#111111")
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels([f"{s:,}" for s in sizes], rotation=0 if len(sizes) <= 7 else 45)
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_xlabel("n (training sequences)")
    ax.set_title(f"risk ratio a / b at each n\n(*: its {level:g} interval excludes 1)",
                 loc="left", fontsize=10)
    ax.grid(False)
    ax.tick_params(axis="y", length=0, labelleft=False)
    for s in ax.spines.values():
        s.set_visible(False)


def _table(pairs, level) -> tuple[list, list]:
    """The heads and rows of the difference, both intervals and the verdict of each pair
    beside the difference panel."""
    tost = f"{1 - 2 * (1 - level):g}"
    heads = ["a - b", f"{level:g} interval", f"{tost} TOST", "verdict"]
    rows = []
    for p in pairs:
        c = p.comparison
        if c is None:
            rows.append(("not compared", {"color": style.GREY}))
            continue
        status, _, reason = c.verdict.partition(" (")
        judged = {"fontweight": "bold" if status != "inconclusive" else "normal"}
        if reason:
            judged.update(fontsize=8, linespacing=1.1)
        rows.append([f"{c.difference:+.3f}", style.fmt_ci(*c.ci),
                     (style.fmt_ci(*tost_interval(c)), {"fontweight": "bold"}),
                     (status + (f"\n({reason}" if reason else ""), judged)])
    return heads, rows


def draw_comparison(ax, data, pairs, txt=None, ratios=None) -> None:
    """The exponent differences of ``pairs`` (``data.Pair``s) on ``ax``: the thin line is the
    ``level`` interval ("different" when it excludes 0), the thick bar the TOST interval
    ("comparable" when it lies inside the shaded margin); with ``txt`` and ``ratios``, the
    table of numbers and the risk-ratio heat map (both sharing ``ax``'s y axis)."""
    ys = list(range(len(pairs)))
    xs = [0.0, data.margin, -data.margin]
    ax.axvspan(-data.margin, data.margin, color="#E8E8E8", lw=0, zorder=0)
    ax.axvline(0, color=style.GREY, lw=0.9, zorder=1)
    tost = None
    for p, y in zip(pairs, ys):
        c = p.comparison
        if c is None:
            continue
        lo, hi = c.ci
        tlo, thi = tost_interval(c)
        ca, cb = data.styles[p.a]["color"], data.styles[p.b]["color"]
        ax.plot([lo, hi], [y, y], color="#333333", lw=1.0, solid_capstyle="butt", zorder=2,
                gid="level-interval")
        ax.plot([tlo, thi], [y, y], color="#333333", lw=4.0, solid_capstyle="butt", zorder=2,
                gid="tost-interval")
        ax.plot([c.difference], [y], marker="o", ms=7, color=ca, mec=cb, mew=2.0, zorder=3)
        xs += [lo, hi]
        tost = tost_level(c)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{p.a} vs {p.b}" for p in pairs])
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.set_ylim(len(pairs) - 0.5, -1.3)
    xs = [v for v in xs if np.isfinite(v)]
    lo, hi = max(min(xs), -2.0), min(max(xs), 2.0)
    pad = 0.08 * (hi - lo) + 0.02
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel("exponent difference a - b")
    bars = (f"\nthick: {tost:g} TOST interval, thin: {data.level:g}" if tost is not None
            else "")
    ax.set_title(f"difference of exponents{bars}\n(shaded: equivalence margin)", loc="left",
                 fontsize=10)
    if txt is not None:
        draw_text_table(txt, *_table(pairs, data.level), ys, -0.9, fontsize=9)
    if ratios is not None:
        draw_ratios(ratios, pairs, ys, data.level)
    for other in (txt, ratios):  # rows line up with the labels whether or not y is shared
        if other is not None:
            other.set_ylim(ax.get_ylim())


@report_styled
def plot_comparison(results, target=None, pairs=None, *, ax=None, **options):
    """Do two estimators converge at the same rate? Every pair of estimators on one target.

    Parameters
    ----------
    results : a results table, a results directory, or a report's ``Report.data``.
    target : the target (required when the results hold several).
    pairs : the (a, b) pairs to show, in order (default: every pair, SSM vs Transformer
        first); each must be a pair the analysis compared.
    ax : None (a new Figure with three panels), one Axes (the differences alone), or three
        axes (a list or the array ``plt.subplots(1, 3)`` returns): the differences, the
        table of numbers and the risk-ratio heat map, drawn on the first's y limits
        whether or not the axes share y.
    **options : how exponents are fitted and compared, as for ``build_report`` (margin is
        the equivalence margin).

    The difference panel draws both intervals behind the verdicts: the thin line is the
    ``level`` interval of a - b ("different": it excludes 0), the thick bar the
    ``1 - 2 (1 - level)`` TOST interval ("comparable": it lies inside the shaded margin).
    Returns the Figure.
    """
    data = report_data(results, compare=True, **options)
    target = one_target(data, target)
    known = {(p.a, p.b): p for p in data.pairs.get(target, [])}
    if not known:
        raise ValueError(f"target {target!r} has fewer than two estimators: nothing to compare")
    keys = list(known) if pairs is None else [(str(a), str(b)) for a, b in pairs]
    missing = [k for k in keys if k not in known]
    if missing:
        raise ValueError(f"pairs: {missing[0]} is not a compared pair of target {target!r} "
                         f"(pairs: {', '.join(f'{a} vs {b}' for a, b in known)})")
    chosen = [known[k] for k in keys]
    if ax is None:
        fig = Figure(figsize=(13.0, 1.6 + 0.5 * max(len(chosen), 3)), layout="constrained")
        axes = fig.subplots(1, 3, sharey=True, width_ratios=(0.9, 1.3, 1.2))
    else:
        count = np.size(ax) if isinstance(ax, (list, tuple, np.ndarray)) else 1
        axes = axes_list(ax, 3 if count > 1 else 1,
                         "panels (differences, table, risk ratios)")
    diff, txt, ratios = (list(axes) + [None, None])[:3]
    draw_comparison(diff, data, chosen, txt, ratios)
    return diff.figure
