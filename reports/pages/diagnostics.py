"""Page 5: diagnostics per target: local slopes, training loss, failures, fit times."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import style
from ._common import HEADER_BOTTOM, LEFT, RIGHT, caption, empty_axes_message, new_page


def _local_slopes(ax, data, target):
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


def _train_loss(ax, data, target):
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


def _failures(ax, data, target):
    rows = data.rows(target)
    ests = data.estimators_of(target)
    sizes = data.sizes(target)
    bad = rows[rows["status"] != "ok"]
    total = len(rows)
    ax.set_title(f"Failed or diverged cells  ({len(bad)} of {total})", loc="left")
    if bad.empty:
        empty_axes_message(ax, f"All {total} cells of this target succeeded:\nno failed or "
                           f"diverged fits.")
        ax.set_title("Failed or diverged cells", loc="left")
        return
    M = np.zeros((len(ests), len(sizes)))
    A = np.zeros_like(M)
    for i, e in enumerate(ests):
        for j, n in enumerate(sizes):
            cell = rows[(rows["estimator"] == e) & (rows["n"] == n)]
            A[i, j] = len(cell)
            M[i, j] = int((cell["status"] != "ok").sum())
    import seaborn as sns

    cmap = sns.light_palette("#D55E00", as_cmap=True)
    ax.pcolormesh(np.arange(len(sizes) + 1) - 0.5, np.arange(len(ests) + 1) - 0.5, M,
                  cmap=cmap, vmin=0, vmax=max(1, M.max()), edgecolors="white", linewidth=1)
    for i, e in enumerate(ests):
        for j in range(len(sizes)):
            if A[i, j] == 0:
                txt = "-"
            else:
                cell = rows[(rows["estimator"] == e) & (rows["n"] == sizes[j])]
                nf = int((cell["status"] == "failed").sum())
                nd = int((cell["status"] == "diverged").sum())
                parts = ([f"{nf} failed"] if nf else []) + ([f"{nd} diverged"] if nd else [])
                txt = "\n".join(parts) if parts else "0"
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


def _fit_time(ax, data, target):
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


def pages(data):
    out = []
    multi = len(data.targets) > 1
    for t in data.targets:
        fig = new_page("Diagnostics" + (f": {t}" if multi else ""),
                       "Can the exponents be trusted? Local slopes, training loss against the "
                       "noise, failed cells and the cost of each fit.")
        paras = [
            "Top left: the exponent between consecutive sizes; steady means a clean power "
            "law, falling at large n means the curve flattens (an optimisation or "
            "approximation floor), rising means pre-asymptotic sizes; significant curvature "
            "is named in the legend. Top right: training error over the noise variance σ²: "
            "near 1 is a well-fitted model, well above 1 underfits (optimisation failure, "
            "seen as a floor in the risk), far below 1 memorises the noise. Bottom left: "
            "cells that failed (an error) or diverged (non-finite predictions), left out of "
            "every fit. Bottom right: wall time of one fit.",
        ]
        cautions = [f"{subj}: {text}" for (tg, subj, text) in data.notes_for(t)
                    if ("curvature" in text or "training loss" in text or "floor" in text)]
        n_bad = int((data.rows(t)["status"] != "ok").sum())
        if n_bad:
            paras.append(f"{n_bad} cell(s) of this target did not succeed; their error "
                         f"messages are listed on the 'Notes and cautions' page.")
        top = caption(fig, paras, cautions, max_lines=10)
        gs = fig.add_gridspec(2, 2, left=LEFT + 0.05, right=RIGHT - 0.01, bottom=top + 0.07,
                              top=HEADER_BOTTOM - 0.03, wspace=0.22, hspace=0.5)
        _local_slopes(fig.add_subplot(gs[0, 0]), data, t)
        _train_loss(fig.add_subplot(gs[0, 1]), data, t)
        _failures(fig.add_subplot(gs[1, 0]), data, t)
        _fit_time(fig.add_subplot(gs[1, 1]), data, t)
        out.append(fig)
    return out
