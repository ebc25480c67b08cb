"""Page 3: every estimator's exponent with its interval against the theoretical one."""

from __future__ import annotations

import math

from .. import style
from ..figures.exponents import plot_exponents
from ..verdicts import excluded_text, verdict
from ._common import HEADER_BOTTOM, LEFT, RIGHT, caption, new_page

PER_PAGE = 14


def polylog_sentence(k: float) -> str:
    """What a (log n)^k factor would have to be to close a gap, stated plainly."""
    text = f"a polylog factor (log n)^k would account for the gap only with k = {k:.2f}"
    if k <= 2:
        return text + " (the theory leaves k unspecified)"
    return text + (", a power above 2, larger than the polylog factors usual in such bounds; "
                   "the theory leaves k unspecified, so this is not excluded, but it is not a "
                   "likely explanation on its own")


def gap_sentence(item) -> str:
    """Why a fit's interval misses the theoretical exponent, in one sentence (or '')."""
    f, c = item.fit, item.check
    if f is None or c is None or c.contains:
        return ""
    head = (f"{item.target} / {item.estimator}: {f.exponent:.3f} {style.fmt_ci(*f.ci)} "
            f"{'below' if c.gap > 0 else 'above'} the theoretical {c.exponent:.3f}")
    why = []
    if c.gap > 0:
        if math.isfinite(c.polylog_k_needed):
            why.append(polylog_sentence(c.polylog_k_needed))
        flag = (f.curvature or {}).get("flag")
        if flag == "saturation":
            why.append("the curve flattens at large n, as under an optimisation or "
                       "approximation floor (try the offset method)")
        elif flag == "pre-asymptotic":
            why.append("the curve steepens at large n (pre-asymptotic sizes)")
    else:
        why.append("the risk falls faster than the class's worst case, which an upper bound "
                   "allows (an easier target, or pre-asymptotic sizes)")
    return f"{head} ({verdict(item)}): " + "; ".join(why) + "."


def pages(data):
    items = [data.fits[(t, e)] for t in data.targets for e in data.estimators_of(t)]
    tolerances = sorted({it.check.tolerance for it in items if it.check is not None})
    tol = "/".join(f"{t:g}" for t in tolerances) or "-"
    out = []
    chunks = [items[i:i + PER_PAGE] for i in range(0, len(items), PER_PAGE)] or [[]]
    for pno, chunk in enumerate(chunks):
        part = f" ({pno + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        has_theory = any(math.isfinite(data.theory_exponent(t)) for t in data.targets)
        fig = new_page("Convergence exponents" + part,
                       f"Fitted exponent β (risk ~ n^-β) with its {data.level:g} "
                       f"interval; method: {data.method}."
                       + (" Vertical dashed lines: the theoretical exponent 2a/(2a+1)."
                          if has_theory else " No theoretical exponent is recorded."))
        gaps = [s for s in (gap_sentence(it) for it in chunk) if s]
        left = [f"{it.target} / {it.estimator}: {excluded_text(it.fit)}" for it in chunk
                if it.fit is not None and excluded_text(it.fit)]
        nofit = [f"{it.target} / {it.estimator}: no fit ({it.error})" for it in chunk
                 if it.fit is None]
        paras = [
            "Each row is one estimator on one target: the dot is the fitted exponent, the bar "
            f"its {data.level:g} interval (bootstrap over replicates, t quantiles). A larger "
            "exponent means faster convergence. The verdict column sets the fit against the "
            f"theory: consistent (the interval lies within +-{tol} of the theoretical "
            "exponent), slower or faster (the interval excludes it; faster does not "
            "contradict the theory, an upper bound on the risk), inconclusive (neither). A "
            "reason in brackets names what makes the fit unreliable: pre-asymptotic "
            "(curvature across the sizes) or optimisation-limited (cells stopped at their "
            "training cap, or an optimisation gap comparable to the risk).",
        ]
        if left:
            paras.append("Sizes left out of the fit as the trivial plateau (median risk above 0.1 of "
                         "the risk of predicting the training mean, or cells "
                         "optimisation-limited before the curve leaves it): "
                         + "; ".join(left) + ".")
        if gaps:
            paras.append("Where an interval misses the theoretical exponent: " + " ".join(gaps))
        top = caption(fig, paras, nofit, max_lines=14)
        height = HEADER_BOTTOM - 0.03 - top - 0.07
        ax = fig.add_axes([LEFT + 0.15, top + 0.07, 0.34, height])
        txt = fig.add_axes([LEFT + 0.51, top + 0.07, RIGHT - LEFT - 0.51, height], sharey=ax)
        plot_exponents(data, [(it.target, it.estimator) for it in chunk], ax=[ax, txt])
        out.append(fig)
    return out
