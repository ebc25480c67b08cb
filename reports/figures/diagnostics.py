"""``plot_diagnostics``: can a target's exponents be trusted? Local slopes, training loss,
optimisation gap, failed and cap-limited cells, fit times."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, NullLocator

from .. import style
from .common import (axes_list, empty_axes_message, grid_figure, one_target,
                     report_data, report_styled)


def column(rows, name) -> pd.Series:
    """``rows[name]`` as floats (all NaN when the table has no such column)."""
    if name not in rows.columns:
        return pd.Series(np.nan, index=rows.index)
    return pd.to_numeric(rows[name], errors="coerce")


def cap_limited(rows) -> pd.Series:
    """Whether each cell's training stopped at its cap (``stopped_by == "cap"``)."""
    if "stopped_by" not in rows.columns:
        return pd.Series(False, index=rows.index)
    return rows["stopped_by"].astype(str).eq("cap")


def _local_slopes(ax, data, target) -> None:
    ests = data.estimators_of(target)
    k = len(ests)
    any_line = False
    for i, est in enumerate(ests):
        f = data.fits[(target, est)].fit
        st = data.styles[est]
        if f is None or f.local_slopes.empty:
            continue
        ls = f.local_slopes
        mid = np.sqrt(ls["n_low"].to_numpy(float) * ls["n_high"].to_numpy(float))
        mid = mid * math.exp(0.035 * (i - (k - 1) / 2))
        flag = (f.curvature or {}).get("flag")
        label = est + (f" ({flag})" if flag else "")  # the p-value is in the caption's cautions
        ax.errorbar(mid, ls["exponent"], yerr=[ls["exponent"] - ls["ci_low"],
                                               ls["ci_high"] - ls["exponent"]],
                    color=st["color"], marker=st["marker"], ms=5, lw=1.4, capsize=2,
                    elinewidth=0.9, label=label)
        any_line = True
    th = data.theory_exponent(target)
    if math.isfinite(th):
        ax.axhline(th, ls="--", color=style.THEORY_COLOR, lw=1.2, label=f"theory {th:.3f}")
    if not any_line:
        empty_axes_message(ax, "no local slopes (fewer than two sizes with successful fits)")
        return
    ax.set_xscale("log")
    sizes = data.sizes(target)
    style.log_ticks(ax, sizes)
    ax.set_xlim(sizes[0] / 1.1, sizes[-1] * 1.1)
    ax.set_xlabel("n (slope between consecutive sizes, drawn between them; log scale)")
    ax.set_ylabel("local exponent between sizes")
    ax.set_title("Local slopes and curvature", loc="left")
    ylo, yhi = ax.get_ylim()
    ylo, yhi = max(ylo, -2.0), min(yhi, 3.5)
    ax.set_ylim(ylo, yhi + 0.45 * (yhi - ylo))  # room for the legend above the data
    ax.legend(fontsize=7.5, loc="upper center", ncol=3, columnspacing=1.0, handlelength=1.6)


def _train_loss(ax, data, target) -> None:
    rows = data.rows(target)
    rows = rows[(rows["status"] == "ok")]
    noise = pd.to_numeric(rows["noise"], errors="coerce")
    tl = pd.to_numeric(rows["train_loss"], errors="coerce")
    use = tl.notna() & noise.notna() & (noise > 0)
    if not use.any():
        empty_axes_message(ax, "training loss or noise level not recorded")
        ax.set_title("Training loss vs noise level", loc="left")
        return
    d = rows[use].assign(ratio=(tl[use] / noise[use] ** 2).to_numpy())
    ests = [e for e in data.estimators_of(target) if e in set(d["estimator"])]
    k = len(ests)
    for i, est in enumerate(ests):
        g = d[d["estimator"] == est].groupby("n")["ratio"].median()
        st = data.styles[est]
        x = g.index.to_numpy(float) * math.exp(0.03 * (i - (k - 1) / 2))
        ax.plot(x, g.to_numpy(), color=st["color"], marker=st["marker"], ms=5, lw=1.4,
                label=est)
    ax.axhline(1.0, ls="--", color=style.THEORY_COLOR, lw=1.2,
               label="σ² (above: underfit, below: overfit)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    style.log_ticks(ax, data.sizes(target))
    ylo, yhi = ax.get_ylim()
    ylo, yhi = min(ylo, 0.5), max(yhi, 2.0)
    ax.set_ylim(ylo, yhi * (yhi / ylo) ** 0.45)  # room for the legend above the data
    style.plain_log_axis(ax, "y")
    ax.set_xlabel("n (training sequences, log scale)")
    ax.set_ylabel("training MSE / σ²  (median)")
    ax.set_title("Training loss vs noise level", loc="left")
    ax.legend(fontsize=7.5, loc="upper center", ncol=3, columnspacing=1.0, handlelength=1.6)


def _cells(ax, data, target) -> None:
    rows = data.rows(target)
    ests = data.estimators_of(target)
    sizes = data.sizes(target)
    capped = cap_limited(rows)
    bad = rows[rows["status"] != "ok"]
    total = len(rows)
    what = "Failed, diverged or cap-limited cells" if capped.any() else \
        "Failed or diverged cells"
    ax.set_title(f"{what}  ({len(bad) + int(capped.sum())} of {total})", loc="left")
    if bad.empty and not capped.any():
        empty_axes_message(ax, f"All {total} cells of this target succeeded:\nno failed or "
                           f"diverged fits.")
        ax.set_title(what, loc="left")
        return
    M = np.zeros((len(ests), len(sizes)))
    labels = {}
    for i, e in enumerate(ests):
        for j, n in enumerate(sizes):
            at = (rows["estimator"] == e) & (rows["n"] == n)
            cell = rows[at]
            counts = {"failed": int((cell["status"] == "failed").sum()),
                      "diverged": int((cell["status"] == "diverged").sum()),
                      "at cap": int(capped[at].sum())}
            M[i, j] = sum(counts.values())
            parts = [f"{v} {k}" for k, v in counts.items() if v]
            labels[i, j] = "-" if cell.empty else ("\n".join(parts) if parts else "0")
    import seaborn as sns

    cmap = sns.light_palette("#D55E00", as_cmap=True)
    ax.pcolormesh(np.arange(len(sizes) + 1) - 0.5, np.arange(len(ests) + 1) - 0.5, M,
                  cmap=cmap, vmin=0, vmax=max(1, M.max()), edgecolors="white", linewidth=1)
    for (i, j), txt in labels.items():
        ax.text(j, i, txt, ha="center", va="center", fontsize=7.5,
                color="#111111" if M[i, j] < 0.7 * max(1, M.max()) else "white")
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels([f"{s:,}" for s in sizes], rotation=0 if len(sizes) <= 6 else 45)
    ax.set_yticks(range(len(ests)))
    ax.set_yticklabels(ests)
    for lab, e in zip(ax.get_yticklabels(), ests):
        lab.set_color(data.styles[e]["color"])
    ax.set_ylim(len(ests) - 0.5, -0.5)
    ax.set_xlabel("n (training sequences)")
    ax.grid(False)


def _opt_gap(ax, data, target) -> None:
    rows = data.rows(target)
    rows = rows[rows["status"] == "ok"]
    gap = column(rows, "opt_gap")
    risk = pd.to_numeric(rows["risk"], errors="coerce")
    use = gap.notna()
    ax.set_title("Optimisation gap per cell", loc="left")
    if not use.any():
        empty_axes_message(ax, "optimisation gap not recorded")
        ax.set_title("Optimisation gap per cell", loc="left")
        return
    ests = [e for e in data.estimators_of(target) if e in set(rows.loc[use, "estimator"])]
    k = len(ests)
    scale = [abs(v) for v in list(gap[use]) + list(risk[use]) if np.isfinite(v) and v != 0]
    for i, est in enumerate(ests):
        mine = use & (rows["estimator"] == est)
        st = data.styles[est]
        dodge = math.exp(0.03 * (i - (k - 1) / 2))
        ax.scatter(rows.loc[mine, "n"] * dodge, gap[mine], s=14, color=st["color"],
                   marker=st["marker"], alpha=0.6, linewidths=0, zorder=3)
        med = gap[mine].groupby(rows.loc[mine, "n"]).median()
        ax.plot(med.index.to_numpy(float) * dodge, med.to_numpy(), color=st["color"], lw=1.4,
                marker=st["marker"], ms=5, zorder=3, label=est)
        r = risk[mine].groupby(rows.loc[mine, "n"]).median()
        ax.plot(r.index.to_numpy(float) * dodge, r.to_numpy(), color=st["color"], lw=1.0,
                ls=":", zorder=2)
    ax.plot([], [], color=style.GREY, lw=1.4, label="gap (median; points: cells)")
    ax.plot([], [], color=style.GREY, lw=1.0, ls=":", label="excess risk (median)")
    ax.axhline(0.0, color=style.THEORY_COLOR, lw=0.9)
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=min(scale) if scale else 1e-4)
    style.log_ticks(ax, data.sizes(target))
    # room for the legend above the data: 0.45 of the data's height, in symlog units
    scale = ax.yaxis.get_transform()
    lo, hi = scale.transform(np.array(ax.get_ylim()))
    ax.set_ylim(ax.get_ylim()[0], float(scale.inverted().transform(hi + 0.45 * (hi - lo))))
    spaced_symlog_ticks(ax)
    ax.set_xlabel("n (training sequences, log scale)")
    ax.set_ylabel("training MSE - σ²  (symlog)")
    ax.legend(fontsize=7.5, loc="upper center", ncol=3, columnspacing=1.0, handlelength=1.6)


def spaced_symlog_ticks(ax, min_gap: float = 0.07) -> None:
    """Major y ticks of a symlog axis at 0 and at powers of ten, none closer than
    ``min_gap`` of the axis height to a tick already kept (matplotlib's symlog locator
    puts -t, 0 and t at the linear threshold t, whose labels overlap); 0 is kept first,
    then the largest magnitudes."""
    transform = ax.yaxis.get_transform()
    lo, hi = ax.get_ylim()
    tlo, thi = transform.transform(np.array([lo, hi]))
    span = abs(thi - tlo) or 1.0
    top = max(abs(lo), abs(hi))
    candidates = [0.0] if lo <= 0 <= hi else []
    if top > 0:
        for k in range(int(np.floor(np.log10(top))), int(np.floor(np.log10(top))) - 12, -1):
            candidates += [v for v in (10.0 ** k, -10.0 ** k) if lo <= v <= hi]
    kept: list = []
    for v in candidates:
        y = float(transform.transform(np.array([v]))[0])
        if all(abs(y - float(transform.transform(np.array([u]))[0])) >= min_gap * span
               for u in kept):
            kept.append(v)
    ax.yaxis.set_major_locator(FixedLocator(sorted(kept)))
    ax.yaxis.set_minor_locator(NullLocator())


def _fit_time(ax, data, target) -> None:
    rows = data.rows(target)
    secs = pd.to_numeric(rows["fit_seconds"], errors="coerce")
    keep = secs.notna() & (secs > 0)
    d = rows[keep].assign(sec=secs[keep].to_numpy())
    ax.set_title("Fit time per model", loc="left")
    if d.empty:
        empty_axes_message(ax, "fit times not recorded")
        ax.set_title("Fit time per model", loc="left")
        return
    ests = [e for e in data.estimators_of(target) if e in set(d["estimator"])]
    for est in ests:
        g = d[d["estimator"] == est].groupby("n")["sec"].median()
        st = data.styles[est]
        tot = d.loc[d["estimator"] == est, "sec"].sum()
        ax.plot(g.index.to_numpy(float), g.to_numpy(), color=st["color"], marker=st["marker"],
                ms=5, lw=1.4, label=f"{est}  (total {style.fmt_seconds(tot)})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    style.log_ticks(ax, data.sizes(target))
    ylo, yhi = ax.get_ylim()
    ax.set_ylim(ylo, yhi * (yhi / ylo) ** 0.5)  # room for the legend above the data
    style.plain_log_axis(ax, "y")
    ax.set_xlabel("n (training sequences, log scale)")
    ax.set_ylabel("seconds per fitted model (median)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7.5, loc="upper center", ncol=2, columnspacing=1.0,
                  handlelength=1.6)


#: The panels of ``plot_diagnostics`` by name, in drawing order.
PANELS = {"slopes": _local_slopes, "train_loss": _train_loss, "opt_gap": _opt_gap,
          "cells": _cells, "fit_time": _fit_time}


def default_panels(data, target) -> list:
    """The four panels drawn by default: slopes, the optimisation gap where the table
    records one (else the training loss over σ², the same quantity in other units, without
    the risk beside it), cells and fit time."""
    recorded = column(data.rows(target), "opt_gap").notna().any()
    return ["slopes", "opt_gap" if recorded else "train_loss", "cells", "fit_time"]


@report_styled
def plot_diagnostics(results, target=None, panels=None, *, ax=None, **options):
    """Diagnostics of one target's fits, one panel each.

    Parameters
    ----------
    results : a results table, a results directory, or a report's ``Report.data``.
    target : the target (required when the results hold several).
    panels : names from ``PANELS``, drawn in the order given: "slopes" (the exponent
        between consecutive sizes with its interval, curvature flags), "train_loss"
        (median training MSE over the noise variance), "opt_gap" (each cell's
        optimisation gap ``opt_gap`` = training MSE - σ², with the median excess risk
        dotted for scale), "cells" (failed, diverged and cap-limited cells per estimator
        and n, the last from ``stopped_by == "cap"``), "fit_time" (median seconds per
        fit). Default: all, "opt_gap" only when the table records it. Cells without a
        value (NaN, or a column the table lacks) are not drawn.
    ax : None (a new Figure), or one Axes per panel (a single Axes for one panel).
    **options : how exponents are fitted, as for ``build_report``.

    Returns the Figure.
    """
    data = report_data(results, **options)
    target = one_target(data, target)
    names = default_panels(data, target) if panels is None else [str(p) for p in panels]
    unknown = [p for p in names if p not in PANELS]
    if unknown or not names:
        what = f"unknown panel {unknown[0]!r}" if unknown else "no panel named"
        raise ValueError(f"panels: {what} (known: {', '.join(PANELS)})")
    axes = axes_list(ax, len(names), "panels")
    if not axes:
        _, axes = grid_figure(len(names), cols=2, panel_size=(6.0, 4.2))
    for a, name in zip(axes, names):
        PANELS[name](a, data, target)
    return axes[0].figure
