"""Page 4: pairwise comparisons of estimators on each target (SSM vs Transformer first)."""

from __future__ import annotations

from ..figures.common import empty_axes_message
from ..figures.comparison import plot_comparison
from ._common import HEADER_BOTTOM, LEFT, RIGHT, caption, new_page

PER_PAGE = 14


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
        tost = f"{1 - 2 * (1 - data.level):g}"
        paras = [
            f"Left: the difference of the exponents of a and b (positive: a converges faster) "
            f"from a paired bootstrap (estimators trained on the same data are compared "
            f"replicate by replicate), with two intervals: the thin line is its "
            f"{data.level:g} interval, the thick bar its {tost} interval, the one the "
            f"equivalence test (TOST) reads. Shaded band: the equivalence margin "
            f"+-{data.margin:g}. Verdicts: comparable (the thick {tost} bar lies inside the "
            f"band: TOST shows |difference| < {data.margin:g}), different (the thin "
            f"{data.level:g} line excludes 0), inconclusive (neither); a reason in brackets "
            f"names cells that make the comparison unreliable. Right: the ratio of geometric-"
            f"mean risks a / b at each n, for every pair (compared or not) and every n (plateau "
            f"sizes included); blue: a has the lower risk, red: b has.",
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
        body_b, body_t = top + 0.08, HEADER_BOTTOM - 0.07
        ax = fig.add_axes([LEFT + 0.15, body_b, 0.19, body_t - body_b])
        txt = fig.add_axes([LEFT + 0.355, body_b, 0.325, body_t - body_b], sharey=ax)
        hm = fig.add_axes([LEFT + 0.69, body_b, RIGHT - LEFT - 0.69, body_t - body_b],
                          sharey=ax)
        plot_comparison(data, target, [(p.a, p.b) for p in chunk], ax=[ax, txt, hm])
        out.append(fig)
    return out


def pages(data):
    out = []
    targets = [t for t in data.targets if data.pairs.get(t)] or data.targets[:1]
    for t in targets:
        out += _target_pages(data, t)
    return out
