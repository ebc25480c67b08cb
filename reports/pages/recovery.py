"""Selection recovery against n beside risk against n, one row per piecewise target whose
network cells carry recovery (none otherwise)."""

from __future__ import annotations

from nprates.analysis.recovery import half_way_n, recovery_by_size

from ..figures.recovery import plot_recovery, recovery_targets
from ._common import HEADER_BOTTOM, LEFT, RIGHT, caption, new_page

PER_PAGE = 2


def pages(data):
    targets = recovery_targets(data.table)
    by_size = recovery_by_size(data.table, data.level) if targets else None
    out = []
    for start in range(0, len(targets), PER_PAGE):
        chunk = targets[start:start + PER_PAGE]
        fig = new_page("Selection recovery", "Does the network's token importance single out "
                       "the truly selected token? Rank-1 recovery against n, beside the risk.")
        notes = []
        for t in chunk:
            for e in sorted(set(by_size.estimator[by_size.target == t])):
                n_half = half_way_n(by_size, t, e)
                sizes = sorted(by_size.n[(by_size.target == t) & (by_size.estimator == e)])
                where = (f"reaches half-way at n = {n_half:g}" if n_half == n_half
                         else "stays below half-way")
                notes.append(f"{t} / {e}: {where} (sizes with recovery: "
                             f"{', '.join(map(str, sizes))}).")
        paras = ["Right: the share of scored positions (over 1000 test sequences per cell) "
                 "whose most important window token, by the network's token importance, is "
                 "the target's most important selected token; mean over cells with its "
                 f"{data.level:g} interval. Dashed: chance, a uniformly random window token; "
                 "dash-dot: half-way between chance and 1. Importance is a gradient, a local "
                 "sensitivity: it shows what the fitted function responds to, not a "
                 "mechanism (docs/theory.md)."]
        top = caption(fig, paras + [" ".join(notes)], max_lines=10)
        gs = fig.add_gridspec(len(chunk), 2, left=LEFT + 0.045, right=RIGHT,
                              bottom=top + 0.07, top=HEADER_BOTTOM - 0.045, wspace=0.25,
                              hspace=0.5)
        for i, t in enumerate(chunk):
            plot_recovery(data, t, ax=[fig.add_subplot(gs[i, 0]), fig.add_subplot(gs[i, 1])],
                          level=data.level)
        out.append(fig)
    return out
