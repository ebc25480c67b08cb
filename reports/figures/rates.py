"""``plot_rates``: log-log excess risk against n, one panel per target."""

from __future__ import annotations

import math

import matplotlib
import numpy as np

from nprates.analysis import t_interval

from .. import style
from ..verdicts import excluded_sizes
from .common import axes_list, grid_figure, one_target, report_data, report_styled
from .text_table import text_width


#: The legend's font size (points) and handle length (font sizes) inside a panel.
LEGEND_FONTSIZE = 8.0
LEGEND_HANDLE = 1.8


def mean_band(per, level):
    """Geometric mean risk per size and its ``level`` interval (t over replicates)."""
    per = per[per["n_ok"] > 0]
    mean = np.exp(per["mean_log_risk"].to_numpy(float))
    lo, hi = np.full(len(per), np.nan), np.full(len(per), np.nan)
    for i, r in enumerate(per.itertuples()):
        if r.n_ok >= 2 and np.isfinite(r.sd_log_risk):
            a, b = t_interval(r.mean_log_risk, r.sd_log_risk / math.sqrt(r.n_ok), r.n_ok - 1,
                              level)
            lo[i], hi[i] = math.exp(a), math.exp(b)
    return per["n"].to_numpy(float), mean, lo, hi


def _ylim(values, strip: float):
    """Log-scale limits around ``values`` leaving the bottom ``strip`` (axes fraction) free."""
    v = np.log10(np.asarray([x for x in values if np.isfinite(x) and x > 0]))
    if v.size == 0:
        return None
    lo, hi = float(v.min()), float(v.max())
    span = max(hi - lo, 0.3)
    top = hi + 0.06 * span
    bottom = lo - 0.04 * span
    bottom -= strip / (1 - strip) * (top - bottom)
    return 10 ** bottom, 10 ** top


def draw_rates(ax, data, target, legend_outside=False) -> None:
    """One target's rate curves on ``ax``: replicates, geometric means with their band, the
    fitted power laws, the theory's slope and failed cells."""
    ests = data.estimators_of(target)
    k = len(ests)
    sizes = data.sizes(target)
    ax.set_xscale("log")
    ax.set_yscale("log")
    anchors, seen, points = [], [], []  # seen: risks for the limits; points: (n, risk) drawn
    n_bad_ests = 0
    any_left_out = False
    for i, est in enumerate(ests):
        st = data.styles[est]
        c = st["color"]
        dodge = math.exp(0.03 * (i - (k - 1) / 2))
        rows = data.rows(target, est)
        ok = rows[(rows["status"] == "ok") & (rows["risk"] > 0)]
        seen += list(ok["risk"])
        points += list(zip(ok["n"] * dodge, ok["risk"]))
        ax.scatter(ok["n"] * dodge, ok["risk"], s=14, color=c, alpha=0.45, marker=st["marker"],
                   linewidths=0, zorder=2)
        item = data.fits[(target, est)]
        f = item.fit
        if f is not None:
            n, mean, lo, hi = mean_band(f.per_n, data.level)
            good = np.isfinite(lo)
            if good.sum() >= 2:
                ax.fill_between(n[good], lo[good], hi[good], color=c, alpha=0.11, lw=0,
                                zorder=1)
            left_out = np.isin(n, excluded_sizes(f))
            ax.plot(n[~left_out] * dodge, mean[~left_out], ls="none", marker=st["marker"],
                    ms=7, color=c, mec="white", mew=0.8, zorder=4)
            if left_out.any():
                any_left_out = True
                ax.plot(n[left_out] * dodge, mean[left_out], ls="none", marker=st["marker"],
                        ms=7, color=c, mfc="white", mew=1.2, zorder=4)
            fitted = f.per_n[f.per_n["n"].isin(f.sizes)]
            seen += list(fitted["fitted_risk"])
            points += list(zip(n * dodge, mean)) + list(zip(n[good], hi[good]))
            points += list(zip(fitted["n"], fitted["fitted_risk"]))
            label = f"{est}:  {f.exponent:.3f}  {style.fmt_ci(*f.ci)}"
            ax.plot(fitted["n"], fitted["fitted_risk"], color=c, lw=1.8, zorder=3, label=label)
            if len(mean):
                anchors.append((n[0], mean[0]))
        else:
            ax.plot([], [], color=c, lw=1.8, marker=st["marker"], label=f"{est}:  no fit")
        bad = rows[rows["status"] != "ok"]
        if len(bad):
            cnt = bad.groupby("n").size()
            ax.scatter(cnt.index.to_numpy(float) * dodge,
                       np.full(len(cnt), 0.025 + 0.03 * n_bad_ests), marker="x", s=36,
                       color=c, linewidths=1.6, zorder=5, transform=ax.get_xaxis_transform(),
                       clip_on=False)
            n_bad_ests += 1
    th = data.theory_exponent(target)
    if math.isfinite(th) and anchors and len(sizes) >= 2:
        n0 = min(a[0] for a in anchors)
        y0 = math.exp(np.mean([math.log(a[1]) for a in anchors if a[0] == n0]))
        nn = np.geomspace(sizes[0], sizes[-1], 50)
        ax.plot(nn, y0 * (nn / n0) ** -th, ls="--", color=style.THEORY_COLOR, lw=1.3,
                zorder=2, label=f"theory slope:  {th:.3f}")
    if any_left_out:
        ax.plot([], [], ls="none", marker="o", mfc="white", color=style.GREY,
                label="left out (trivial plateau)")
    if n_bad_ests:
        ax.scatter([], [], marker="x", color=style.GREY, label="failed / diverged cell")
    lim = _ylim(seen, 0.03 + 0.03 * n_bad_ests if n_bad_ests else 0.0)
    if lim:
        ax.set_ylim(*lim)
    if sizes:
        ax.set_xlim(sizes[0] / 1.15, sizes[-1] * 1.15)
    style.log_ticks(ax, sizes)
    style.plain_log_axis(ax, "y")
    ax.set_xlabel("n  (training sequences, log scale)")
    ax.set_ylabel("excess risk  (test MSE vs noise-free target, log scale)")
    ax.set_title(target, loc="left")
    title = "estimator:  exponent β  [" + f"{data.level:g}" + " interval]"
    if legend_outside:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                  title=title, title_fontsize=9, fontsize=9.5, handlelength=2.2)
    else:
        labels = ax.get_legend_handles_labels()[1]
        loc = _legend_corner(ax, labels, title, LEGEND_FONTSIZE, LEGEND_HANDLE, points)
        ax.legend(loc=loc, title=title, title_fontsize=LEGEND_FONTSIZE,
                  fontsize=LEGEND_FONTSIZE, handlelength=LEGEND_HANDLE)


def _legend_corner(ax, labels, title, size, handlelength, points) -> str:
    """The corner of ``ax`` for a legend of ``labels`` under ``title`` (font ``size``
    points) that hides no point of ``points`` ((n, risk) pairs) at the least cost, the log
    y axis stretched at the top (upper corners) or bottom (lower corners) to make room.

    The legend's size is measured from its texts (matplotlib lays a legend out only at draw
    time), the axes' from its position; a legend never takes more than 60% of the height.
    Ties go to the upper right.
    """
    fig = ax.figure
    rc = matplotlib.rcParams
    pad = 2 * (rc["legend.borderpad"] + rc["legend.borderaxespad"]) * size
    width = max([text_width(label, size) for label in labels] or [0.0])
    width = max(width + (handlelength + rc["legend.handletextpad"]) * size,
                text_width(title, size)) + pad
    height = len(labels) * (1.2 + rc["legend.labelspacing"]) * size + 1.5 * size + pad
    box = ax.get_position()
    wide = min(1.0, 1.1 * width / (box.width * fig.get_figwidth() * 72))
    share = min(0.6, 1.1 * height / (box.height * fig.get_figheight() * 72))
    (x0, x1), (y0, y1) = np.log(ax.get_xlim()), np.log(ax.get_ylim())
    xy = np.array([(math.log(n), math.log(r)) for n, r in points
                   if n > 0 and r > 0 and np.isfinite(r)]).reshape(-1, 2)
    x = (xy[:, 0] - x0) / (x1 - x0) if x1 > x0 else np.zeros(len(xy))
    best = None
    for loc in ("upper right", "upper left", "lower left", "lower right"):
        under = xy[(x >= 1 - wide) if loc.endswith("right") else (x <= wide), 1]
        lo, hi = y0, y1
        if len(under) and loc.startswith("upper"):
            hi = max(y1, y0 + (under.max() - y0) / (1 - share))
        elif len(under):
            lo = min(y0, (under.min() - share * y1) / (1 - share))
        if best is None or hi - lo < best[0] - 1e-12:
            best = (hi - lo, loc, lo, hi)
    _, loc, lo, hi = best
    ax.set_ylim(math.exp(lo), math.exp(hi))
    return loc


@report_styled
def plot_rates(results, target=None, *, ax=None, legend_outside=False, **options):
    """Rate curves: excess risk against n (log-log) with the fitted power laws.

    Parameters
    ----------
    results : a results table (DataFrame in the ``nprates.analysis.schema`` layout), a
        results directory, or a report's prepared analysis (``Report.data``).
    target : the target to draw (default: every target, one panel each).
    ax : a matplotlib Axes (one target) or a sequence of axes, one per target drawn;
        default: a new Figure with one panel per target.
    legend_outside : put the legend right of the panel instead of inside it.
    **options : how exponents are fitted, as for ``build_report`` (method, level, n_boot,
        seed, polylog_k); only for a table or directory.

    Per estimator: every replicate's risk (faint), the geometric mean per n with its
    ``level`` t interval (shaded), the fitted power law over the sizes fitted (solid; sizes
    left out as at the trivial plateau are hollow), and the theory's slope (dashed,
    arbitrary height). Failed cells are marked x along the bottom. Returns the Figure.
    """
    data = report_data(results, **options)
    targets = [one_target(data, target)] if target is not None else list(data.targets)
    axes = axes_list(ax, len(targets), "targets")
    if not axes:
        _, axes = grid_figure(len(targets), cols=2, panel_size=(6.4, 4.6))
    for a, t in zip(axes, targets):
        draw_rates(a, data, t, legend_outside=legend_outside)
    return axes[0].figure
