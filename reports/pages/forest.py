"""Page 3: every estimator's exponent with its interval against the theoretical one."""

from __future__ import annotations

import math

import numpy as np

from .. import style
from ._common import HEADER_BOTTOM, LEFT, RIGHT, caption, new_page

PER_PAGE = 18


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
            plaus = "plausible" if c.polylog_k_needed <= 3 else "too large to explain it alone"
            why.append(f"a polylog factor (log n)^k with k = {c.polylog_k_needed:.2f} would "
                       f"account for the gap ({plaus}; the theory allows an unspecified k)")
        flag = (f.curvature or {}).get("flag")
        if flag == "saturation":
            why.append("the curve flattens at large n, as under an optimisation or "
                       "approximation floor (try the offset method)")
        elif flag == "pre-asymptotic":
            why.append("the curve steepens at large n (pre-asymptotic sizes)")
    else:
        why.append("the risk falls faster than the class's worst case, which an upper bound "
                   "allows (an easier target, or pre-asymptotic sizes)")
    return f"{head} ({c.status}): " + "; ".join(why) + "." if why else f"{head} ({c.status})."


def pages(data):
    items = [data.fits[(t, e)] for t in data.targets for e in data.estimators_of(t)]
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
        nofit = [f"{it.target} / {it.estimator}: no fit ({it.error})" for it in chunk
                 if it.fit is None]
        paras = [
            "Each row is one estimator on one target: the dot is the fitted exponent, the bar "
            f"its {data.level:g} interval (bootstrap over replicates, t quantiles). A larger "
            "exponent means faster convergence. The verdict column sets the fit against the "
            "theory: consistent (agrees within the tolerance 0.05), slower (significantly "
            "below), faster (above: the theory is an upper bound on the risk, so this does "
            "not contradict it), inconclusive (interval wider than 0.4).",
        ]
        if gaps:
            paras.append("Where an interval misses the theoretical exponent: " + " ".join(gaps))
        top = caption(fig, paras, nofit, max_lines=14)
        ax = fig.add_axes([LEFT + 0.16, top + 0.07, 0.43, HEADER_BOTTOM - 0.03 - top - 0.07])
        txt = fig.add_axes([LEFT + 0.61, top + 0.07, RIGHT - LEFT - 0.61,
                            HEADER_BOTTOM - 0.03 - top - 0.07], sharey=ax)
        txt.set_axis_off()
        multi = len(data.targets) > 1
        ys, labels, colors = [], [], []
        y = 0
        xs = []
        group_start = {}
        for it in chunk:
            if multi and it.target not in group_start and group_start:
                y += 0.6
            group_start.setdefault(it.target, y)
            ys.append(y)
            labels.append(f"{it.target} / {it.estimator}" if multi else it.estimator)
            colors.append(data.styles[it.estimator]["color"])
            y += 1
        for it, yy in zip(chunk, ys):
            st = data.styles[it.estimator]
            f = it.fit
            if f is not None:
                lo, hi = f.ci
                ax.plot([lo, hi], [yy, yy], color=st["color"], lw=2.4, solid_capstyle="butt")
                ax.plot([f.exponent], [yy], marker=st["marker"], color=st["color"], ms=8,
                        mec="white", mew=0.8)
                xs += [lo, hi, f.exponent]
                verdict = it.row.get("verdict", "")
                txt.text(0.0, yy, f"{f.exponent:.3f}", ha="left", va="center", fontsize=9.5,
                         transform=txt.get_yaxis_transform())
                txt.text(0.24, yy, style.fmt_ci(*f.ci), ha="left", va="center", fontsize=9.5,
                         transform=txt.get_yaxis_transform())
                txt.text(0.63, yy, f"{f.n_ok}/{f.n_ok + f.n_failed}", ha="left", va="center",
                         fontsize=9.5, transform=txt.get_yaxis_transform())
                txt.text(0.78, yy, verdict, ha="left", va="center", fontsize=9.5,
                         transform=txt.get_yaxis_transform())
            else:
                ax.text(0.02, yy, "no fit", color=st["color"], va="center", fontsize=9,
                        transform=ax.get_yaxis_transform())
                txt.text(0.0, yy, "-", ha="left", va="center", fontsize=9.5,
                         transform=txt.get_yaxis_transform())
                txt.text(0.78, yy, "no fit", ha="left", va="center", fontsize=9.5,
                         transform=txt.get_yaxis_transform())
        # the theoretical exponent, per target group
        for t, y0 in group_start.items():
            th = data.theory_exponent(t)
            ylast = max(yy for it, yy in zip(chunk, ys) if it.target == t)
            if math.isfinite(th):
                ax.plot([th, th], [y0 - 0.45, ylast + 0.45], ls="--", color=style.THEORY_COLOR,
                        lw=1.3, zorder=0)
                ax.text(th, y0 - 0.5, f" theory {th:.3f}", ha="left", va="bottom", fontsize=8.5,
                        color=style.THEORY_COLOR)
                xs.append(th)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels)
        for lab, c in zip(ax.get_yticklabels(), colors):
            lab.set_color(c)
            lab.set_fontweight("bold")
        if ys:
            ax.set_ylim(max(ys) + 0.7, min(ys) - 1.1)
        xs = [v for v in xs if np.isfinite(v)]
        if xs:
            lo, hi = max(min(xs), -1.5), min(max(xs), 3.0)
            pad = max(0.05, 0.08 * (hi - lo))
            ax.set_xlim(lo - pad, hi + pad)
        ax.set_xlabel("exponent β  (risk ~ n^-β; larger = faster convergence)")
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="y", length=0)
        head_y = (min(ys) - 1.0) if ys else 0
        for x, h in ((0.0, "exponent"), (0.24, f"{data.level:g} interval"), (0.63, "ok/all"),
                     (0.78, "verdict")):
            txt.text(x, head_y, h, ha="left", va="center", fontsize=9.5, fontweight="bold",
                     transform=txt.get_yaxis_transform())
        out.append(fig)
    return out
