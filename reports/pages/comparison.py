"""Page 4: pairwise comparisons of estimators on each target (SSM vs Transformer first)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import Normalize

from .. import style
from ._common import HEADER_BOTTOM, LEFT, RIGHT, caption, empty_axes_message, new_page

PER_PAGE = 14


def _pair_label(p) -> str:
    return f"{p.a} vs {p.b}"


def _heatmap(ax, pairs, ys, level):
    comps = [p.comparison for p in pairs]
    sizes = sorted({int(n) for c in comps if c is not None for n in c.risk_ratio["n"]})
    if not sizes:
        empty_axes_message(ax, "no risk ratios")
        return
    M = np.full((len(pairs), len(sizes)), np.nan)
    sig = np.zeros_like(M, dtype=bool)
    for i, c in enumerate(comps):
        if c is None:
            continue
        for r in c.risk_ratio.itertuples():
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
            ax.text(j, ys[i], f"{ratio:.2f}" + ("*" if sig[i, j] else ""), ha="center",
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


def _target_pages(data, target):
    pairs = data.pairs.get(target, [])
    out = []
    chunks = [pairs[i:i + PER_PAGE] for i in range(0, len(pairs), PER_PAGE)] or [[]]
    multi = len(data.targets) > 1
    for pno, chunk in enumerate(chunks):
        part = f" ({pno + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        tname = f": {target}" if multi else ""
        fig = new_page("Comparisons" + tname + part,
                       "Do two estimators converge at the same rate? Difference of exponents "
                       "a - b with its interval, and how their risks compare at each n.")
        paras = [
            f"Left: the difference of the exponents of a and b (positive: a converges faster), "
            f"with its {data.level:g} interval from a paired bootstrap (estimators trained "
            f"on the same data are compared replicate by replicate). Shaded band: the "
            f"equivalence margin +-{data.margin:g}. Verdicts: comparable (an equivalence "
            f"test, TOST, shows |difference| < {data.margin:g}), different (the exponents "
            f"differ significantly), inconclusive (neither). Right: the ratio of geometric-"
            f"mean risks a / b at each n; blue: a has the lower risk, red: b has.",
        ]
        cautions = [f"{p.a} vs {p.b}: not compared ({p.error})" for p in chunk if p.error]
        for p in chunk:
            if p.comparison is not None:
                for w in p.comparison.warnings:
                    if "do not share training data" in w or "different sample sizes" in w:
                        cautions.append(f"{p.a} vs {p.b}: {w}")
        top = caption(fig, paras, cautions, max_lines=11)
        if not chunk:
            ax = fig.add_axes([LEFT, top + 0.05, RIGHT - LEFT, HEADER_BOTTOM - top - 0.1])
            ests = data.estimators_of(target)
            empty_axes_message(ax, f"Nothing to compare on target {target!r}: it has "
                               f"{len(ests)} estimator ({', '.join(ests)}); comparisons need "
                               f"two or more.")
            out.append(fig)
            continue
        body_b, body_t = top + 0.08, HEADER_BOTTOM - 0.045
        ax = fig.add_axes([LEFT + 0.15, body_b, 0.21, body_t - body_b])
        txt = fig.add_axes([LEFT + 0.375, body_b, 0.225, body_t - body_b], sharey=ax)
        hm = fig.add_axes([LEFT + 0.61, body_b, RIGHT - LEFT - 0.61, body_t - body_b],
                          sharey=ax)
        txt.set_axis_off()
        ys = list(range(len(chunk)))
        xs = [0.0, data.margin, -data.margin]
        ax.axvspan(-data.margin, data.margin, color="#E8E8E8", lw=0, zorder=0)
        ax.axvline(0, color=style.GREY, lw=0.9, zorder=1)
        tf = txt.get_yaxis_transform()
        for p, y in zip(chunk, ys):
            c = p.comparison
            if c is None:
                txt.text(0.0, y, "not compared", fontsize=9, va="center", color=style.GREY,
                         transform=tf)
                continue
            lo, hi = c.ci
            ca, cb = data.styles[p.a]["color"], data.styles[p.b]["color"]
            ax.plot([lo, hi], [y, y], color="#333333", lw=2.2, solid_capstyle="butt", zorder=2)
            ax.plot([c.difference], [y], marker="o", ms=7, color=ca, mec=cb, mew=2.0, zorder=3)
            xs += [lo, hi]
            txt.text(0.0, y, f"{c.difference:+.3f}", fontsize=9, va="center", transform=tf)
            txt.text(0.25, y, style.fmt_ci(*c.ci), fontsize=9, va="center", transform=tf)
            txt.text(0.71, y, c.verdict, fontsize=9, va="center", transform=tf,
                     fontweight="bold" if c.verdict != "inconclusive" else "normal")
        head = -0.9
        for x, h in ((0.0, "a - b"), (0.25, f"{data.level:g} interval"), (0.71, "verdict")):
            txt.text(x, head, h, fontsize=9.5, fontweight="bold", va="center", transform=tf)
        ax.set_yticks(ys)
        ax.set_yticklabels([_pair_label(p) for p in chunk])
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="y", visible=False)
        ax.set_ylim(len(chunk) - 0.5, -1.3)
        xs = [v for v in xs if np.isfinite(v)]
        lo, hi = max(min(xs), -2.0), min(max(xs), 2.0)
        pad = 0.08 * (hi - lo) + 0.02
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_xlabel("exponent difference a - b")
        ax.set_title("difference of exponents\n(shaded: equivalence margin)", loc="left",
                 fontsize=10)
        _heatmap(hm, chunk, ys, data.level)
        out.append(fig)
    return out


def pages(data):
    out = []
    targets = [t for t in data.targets if data.pairs.get(t)] or data.targets[:1]
    for t in targets:
        out += _target_pages(data, t)
    return out
