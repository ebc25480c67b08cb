"""Page 5: diagnostics per target: local slopes, training loss, optimisation gap, failed
and cap-limited cells, fit times."""

from __future__ import annotations

from ..figures.diagnostics import cap_limited, default_panels, plot_diagnostics
from ._common import HEADER_BOTTOM, LEFT, RIGHT, caption, new_page


DESCRIPTIONS = {
    "slopes": "the exponent between consecutive sizes; steady means a clean power law, "
              "falling at large n means the curve flattens (an optimisation or approximation "
              "floor), rising means pre-asymptotic sizes; significant curvature is named in "
              "the legend.",
    "train_loss": "training error over the noise variance σ²: near 1 is a well-fitted "
                  "model, well above 1 underfits (optimisation failure, seen as a floor in the "
                  "risk), far below 1 memorises the noise.",
    "opt_gap": "each cell's optimisation gap, training MSE minus σ² (symlog scale), with the "
               "median excess risk dotted: a gap comparable to the risk means the optimiser, "
               "not n, sets the risk. Well above 0 underfits, below 0 memorises the noise.",
    "cells": "cells that failed (an error) or diverged (non-finite predictions), left out of "
             "every fit.",
    "fit_time": "wall time of one fit.",
}


def pages(data):
    out = []
    multi = len(data.targets) > 1
    for t in data.targets:
        panels = default_panels(data, t)
        fig = new_page("Diagnostics" + (f": {t}" if multi else ""),
                       "Can the exponents be trusted? Local slopes, training loss against the "
                       "noise, failed cells and the cost of each fit.")
        where = ("Top left", "Top right", "Bottom left", "Bottom right")
        paras = [" ".join(f"{pos}: {DESCRIPTIONS[p]}" for pos, p in zip(where, panels))]
        if cap_limited(data.rows(t)).any():
            paras.append("Cap-limited cells stopped at their training cap rather than by early "
                         "stopping: counted in the cells panel, kept in the fits.")
        cautions = [f"{subj}: {text}" for (tg, subj, text) in data.notes_for(t)
                    if ("curvature" in text or "training loss" in text or "floor" in text)]
        n_bad = int((data.rows(t)["status"] != "ok").sum())
        if n_bad:
            paras.append(f"{n_bad} cell(s) of this target did not succeed; their error "
                         f"messages are listed on the 'Notes and cautions' page.")
        top = caption(fig, paras, cautions, max_lines=10)
        gs = fig.add_gridspec(2, 2, left=LEFT + 0.05, right=RIGHT - 0.01, bottom=top + 0.07,
                              top=HEADER_BOTTOM - 0.03, wspace=0.22, hspace=0.5)
        axes = [fig.add_subplot(gs[i // 2, i % 2]) for i in range(len(panels))]
        plot_diagnostics(data, t, panels, ax=axes)
        out.append(fig)
    return out
