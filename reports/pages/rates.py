"""Page 2: the rate curves, log-log risk against n, one panel per target."""

from __future__ import annotations

import math

from ..figures.rates import plot_rates
from ..verdicts import excluded_text
from ._common import HEADER_BOTTOM, LEFT, RIGHT, caption, new_page

PER_PAGE = 4


def _grid(k: int):
    return {1: (1, 1), 2: (1, 2), 3: (1, 3)}.get(k, (2, 2))


def pages(data):
    out = []
    targets = data.targets
    for start in range(0, len(targets), PER_PAGE):
        chunk = targets[start:start + PER_PAGE]
        part = f" ({start // PER_PAGE + 1} of {math.ceil(len(targets) / PER_PAGE)})" \
            if len(targets) > PER_PAGE else ""
        fig = new_page("Rate curves" + part, "Excess risk against sample size, log-log: a "
                       "straight line of slope -β means risk ~ n^-β.")
        notes = []
        for t in chunk:
            for e in data.estimators_of(t):
                item = data.fits[(t, e)]
                if item.fit is None:
                    notes.append(f"{t} / {e}: no exponent: {item.error}")
                elif excluded_text(item.fit):
                    notes.append(f"{t} / {e}: left out of the fit as at the trivial plateau "
                                 f"(hollow symbols): {excluded_text(item.fit)}")
        n_fail = int((data.table[data.table["target"].isin(chunk)]["status"] != "ok").sum())
        paras = [
            "Small faint symbols: one fitted model each (replicate). Large symbols: the "
            "geometric mean over replicates at each n, with a shaded "
            f"{data.level:g} interval. Solid lines: the fitted power law risk ~ n^-β "
            f"({data.method} fit), whose exponent and interval the legend gives. Dashed grey "
            "line: the slope the theory predicts, 2a/(2a+1) with a the target's effective "
            "smoothness; its height is arbitrary (it starts at the average of the first "
            "means): compare slopes, not levels. A curve steeper than the dashed line "
            "converges faster.",
        ]
        if n_fail:
            paras.append(f"{n_fail} cell(s) did not succeed (failed or diverged); they are "
                         "marked x along the bottom of the panel at their n, in the colour of "
                         "their estimator, and left out of "
                         "the fits (details on the diagnostics page).")
        top = caption(fig, paras, notes, max_lines=9)
        rows, cols = _grid(len(chunk))
        single = len(chunk) == 1
        right = 0.71 if single else RIGHT
        gs = fig.add_gridspec(rows, cols, left=LEFT + 0.045, right=right, bottom=top + 0.065,
                              top=HEADER_BOTTOM - 0.045, wspace=0.28, hspace=0.45)
        for i, t in enumerate(chunk):
            ax = fig.add_subplot(gs[i // cols, i % cols])
            plot_rates(data, t, ax=ax, legend_outside=single)
            if not single:
                ax.set_ylabel("excess risk (test MSE, log)")
        out.append(fig)
    return out
