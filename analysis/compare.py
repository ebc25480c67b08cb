"""Do two estimators converge at the same rate? ``compare_rates``.

By default (``common_range=True``) the two estimators are compared on the sizes where
*both* are off the plateau (``nprates.analysis.layout``), as the log-log slope of the
paired log risk ratio: a pair shares its target draw, n and replicate (in nprates
studies the same training data, ``data_seed``), so the shared noise cancels. Comparing
exponents fitted on different ranges mixes one curve's exit from its plateau into the
difference; ``common_range=False`` still does that (each exponent on its own off-plateau
sizes, the difference from the paired bootstrap).

Every exponent and difference has two estimands (``nprates.analysis.variance_components``):
for the class (draws random: the t interval over the per-draw estimates, draws - 1 df)
and given the drawn functions (draws fixed: replicate noise only). The tests and the
verdict use the class estimand; with one target draw only the conditional one exists and
is used (a warning says so). The per-size risk ratios are clustered by draw the same way.

Decisions (``status``), at ``alpha = 1 - level``:
- "comparable": the two one-sided tests (TOST) reject |beta_a - beta_b| >= margin,
  i.e. the (1 - 2 alpha) interval of the difference lies inside (-margin, margin);
- "different": the two-sided test of equal exponents rejects;
- "inconclusive": neither (too little data for either conclusion).
``p_value`` is the two-sided p-value of equal exponents (not a probability that they are
equal). Both can hold when the difference is small but precisely measured; the status is
then "comparable" and ``p_value`` still shows the difference.

When either curve is optimisation-limited (cells stopped at their training cap, or an
optimisation gap comparable to the risk: ``RateFit.optimisation``) or lr-limited (more
than 10% of its cells chose a learning rate at an edge of their grid), the difference
describes the training budgets as much as the rates: the status stays what the data
say, and the verdict carries the reason, e.g. "different (optimisation-limited)".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .formatting import ci_text, jsonable, num
from .intervals import boot_se, t_interval, t_pvalue, tost_pvalue
from .layout import InsufficientData, layout
from .methods import make_method
from .rate_fit import RateFit
from .rates import fit_layout
from .summary import Summary
from .theory import with_reason
from .variance_components import LABELS, class_estimand, estimand, slope_components


@dataclass(eq=False)
class RateComparison:
    """beta_a - beta_b with a paired bootstrap interval, tests and per-size risk ratios.

    Attributes
    ----------
    target, a, b, method, level, margin
    exponent_a, exponent_b, ci_a, ci_b : the two fits' exponents and intervals.
    difference, se, ci, df : beta_a - beta_b, its paired-bootstrap SE, ``level``
        interval (t with df) and degrees of freedom.
    p_value : two-sided, of equal exponents.
    p_equivalence, equivalence_ci : the TOST p-value for |difference| < margin and
        the (1 - 2 alpha) interval it corresponds to.
    comparable : bool, TOST rejects; status : "comparable", "different" or
        "inconclusive"; reasons, reason : ["optimisation-limited"] / its text when a
        curve is optimisation-limited (else [] / ""); verdict : status, or
        "status (reason)"; faster : the estimator with the larger exponent (or "").
    risk_ratio : DataFrame n, ratio (geometric-mean risk a / b), ci_low, ci_high,
        n_pairs, paired (paired t on log differences when >= 2 pairs, else Welch).
    pairing : how a and b are paired ("shared data seeds", "same (n, replicate)",
        "different data seeds"); n_pairs : cells where both succeeded.
    resampling, n_boot, seed, fit_a, fit_b (RateFit), warnings.
    common_range : the exponents and difference are on the common off-plateau sizes
        (``sizes``; ``sizes_why`` says why those); False: each on its own range.
    estimands : dict "class" and "conditional" of the difference (estimate, se, df, ci,
        p_value); ``estimand`` names the one the tests and verdict use.
    variance : the difference's variance components and heterogeneity test across draws
        (``nprates.analysis.variance_components``; empty with one draw).
    """

    target: str
    a: str
    b: str
    method: str
    level: float
    margin: float
    exponent_a: float
    exponent_b: float
    ci_a: tuple
    ci_b: tuple
    difference: float
    se: float
    ci: tuple
    df: float
    p_value: float
    p_equivalence: float
    equivalence_ci: tuple
    comparable: bool
    status: str
    reasons: list
    reason: str
    verdict: str
    faster: str
    risk_ratio: pd.DataFrame
    pairing: str
    n_pairs: int
    resampling: str
    n_boot: int
    seed: object
    fit_a: RateFit = field(repr=False)
    fit_b: RateFit = field(repr=False)
    warnings: list = field(default_factory=list)
    common_range: bool = True
    sizes: list = field(default_factory=list)
    sizes_why: str = ""
    estimands: dict = field(default_factory=dict)
    estimand: str = "conditional"
    variance: dict = field(default_factory=dict)

    def conf_int(self, alpha: float = 0.05) -> tuple:
        """The (low, high) ``1 - alpha`` interval of the difference beta_a - beta_b."""
        lo, hi = t_interval(self.difference, self.se, self.df, 1 - float(alpha))
        return float(lo), float(hi)

    def summary(self) -> Summary:
        left = [("Target", self.target), ("Estimator a", self.a), ("Estimator b", self.b),
                ("Method", self.method), ("Pairing", self.pairing),
                ("Pairs (both ok)", self.n_pairs),
                ("Sizes", ", ".join(map(str, self.sizes)))]
        right = [("Verdict", self.verdict), ("Margin", f"+-{self.margin:g}"),
                 ("Estimand", LABELS[self.estimand]),
                 ("p-value, diff = 0", num(self.p_value, ".3g")),
                 ("p-value, TOST", num(self.p_equivalence, ".3g")),
                 ("df (t)", num(self.df, ".1f"))]
        s = Summary()
        s.add_header("Convergence rate comparison", left, right)
        s.add_text(self.sizes_why)

        def row(name, est, se, ci, df):
            t = est / se if se > 0 else math.nan
            return (name, est, se, t, t_pvalue(est, se, df), *ci)

        rows = [row("exponent a", self.exponent_a, self.fit_a.se, self.ci_a, self.fit_a.df),
                row("exponent b", self.exponent_b, self.fit_b.se, self.ci_b, self.fit_b.df)]
        for key, name in (("class", "diff a-b, class"), ("conditional", "diff a-b, given")):
            e = self.estimands.get(key)
            if e and np.isfinite(e["se"]):
                rows.append(row(name, e["estimate"], e["se"], e["ci"], e["df"]))
        s.add_coefficients(rows, self.level)
        s.add_rule("=")
        s.add_text("class: draws random, t over the per-draw estimates (draws - 1 df); "
                   "given: conditional on the drawn functions (replicate noise only). "
                   "Exponents a and b: " + ("the class's." if self.fit_a.n_draws > 1 else
                                            "one draw, given it."))
        v = self.variance
        if v:
            h, m = v["heterogeneity"], v["mixedlm"]
            s.add_text(f"Variance of the difference: within a draw {v['within']:.3g} (from "
                       f"{v['within_source']}), between draws {v['between']:.3g}. Equal "
                       f"differences across draws: F = {num(h['F'], '.3g')} on "
                       f"({h['df1']:.0f}, {num(h['df2'], '.1f')}) df, p = "
                       f"{num(h['p_value'], '.3g')}.")
            if np.isfinite(m["exponent"]):
                s.add_text(f"MixedLM (random slope) on the paired log ratios: difference "
                           f"{m['exponent']:+.4f} (se {m['se']:.4f}), between-draw variance "
                           f"{m['between']:.3g}" + (f"; {m['note']}." if m["note"] else "."))
        rr = self.risk_ratio.copy()
        rr["ci"] = [ci_text(lo, hi, ".3g") for lo, hi in zip(rr["ci_low"], rr["ci_high"])]
        rr["used"] = np.where(rr["n"].isin(self.sizes), "yes", "")
        clustered = ("by draw (t over per-draw means)" if (rr["clustered_by"] == "draw").any()
                     else "over pairs (given the draws)")
        s.add_text(f"Risk ratio {self.a} / {self.b} (geometric means) at each n, interval "
                   f"{clustered}:")
        s.add_frame(rr, {"n": ("n", 9, ".0f"), "n_pairs": ("pairs", 7, ".0f"),
                         "ratio": ("ratio", 12, ".4g"),
                         "ci": (f"[{self.level:g} CI]", 24, None),
                         "used": ("in fit", 8, None)})
        s.add_rule("-")
        lo, hi = self.equivalence_ci
        s.add_text(f"{1 - 2 * (1 - self.level):g} interval of the difference "
                   f"[{lo:.4f}, {hi:.4f}] against the margin +-{self.margin:g}.")
        s.add_text(_explain(self))
        s.add_notes("Warnings", self.warnings)
        return s

    def __str__(self) -> str:
        return self.summary().as_text()

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["fit_a"] = self.fit_a.to_dict()
        out["fit_b"] = self.fit_b.to_dict()
        return jsonable(out)


def _explain(c) -> str:
    if c.status == "comparable":
        text = (f"Comparable: the exponents differ by less than {c.margin:g} "
                f"(TOST p = {c.p_equivalence:.3g}).")
    elif c.status == "different":
        text = (f"Different: {c.faster} converges faster (difference {c.difference:+.3f}, "
                f"p-value {c.p_value:.3g}).")
    else:
        text = (f"Inconclusive: neither equal within +-{c.margin:g} nor significantly "
                f"different; more target draws (the class interval's df) or sizes are "
                f"needed ('nprates plan' sizes them).")
    for f in (c.fit_a, c.fit_b):
        for why in f.optimisation["why"]:
            text += f" {f.estimator} is optimisation-limited: {why}."
        if f.optimisation.get("lr_limited"):
            text += (f" {f.estimator} is lr-limited: {f.optimisation['lr_edge_share']:.0%} of "
                     f"its cells chose a learning rate at an edge of their grid.")
    if c.reasons:
        text += " The difference may reflect the training budgets rather than the rates."
    return text


def _pairing(lay) -> str:
    rows = lay.rows
    a, b = lay.estimators
    unit = ["draw", "n", "replicate"]  # one training set: draws reuse (n, replicate)
    ra = rows[rows["estimator"] == a].set_index(unit)["data_seed"].astype(str)
    rb = rows[rows["estimator"] == b].set_index(unit)["data_seed"].astype(str)
    both = ra.to_frame("a").join(rb.to_frame("b"), how="inner")
    known = both[(both["a"] != "") & (both["b"] != "") & (both["a"] != "nan")]
    if known.empty:
        return "same (n, replicate)"
    return "shared data seeds" if (known["a"] == known["b"]).all() else "different data seeds"


def _unit_ratio(ya, yb, level):
    """(estimate, se, df, paired) of the mean log ratio over units at one size: paired t
    on the log differences with >= 2 pairs, else Welch on the two means."""
    both = ~np.isnan(ya) & ~np.isnan(yb)
    np_ = int(both.sum())
    if np_ >= 2:
        d = ya[both] - yb[both]
        return d.mean(), d.std(ddof=1) / math.sqrt(np_), np_ - 1, True
    a, b = ya[~np.isnan(ya)], yb[~np.isnan(yb)]
    if len(a) == 0 or len(b) == 0:
        return None
    est = a.mean() - b.mean()
    if len(a) >= 2 and len(b) >= 2:
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) \
            if va + vb > 0 else math.inf
        return est, se, df, False
    return est, math.nan, math.nan, False


def _risk_ratio(lay, level, cluster: str = "draw") -> pd.DataFrame:
    Ya, Yb = lay.Y
    draw = lay.unit_draw
    rows = []
    for k, n in enumerate(lay.sizes):
        both = ~np.isnan(Ya[k]) & ~np.isnan(Yb[k])
        np_ = int(both.sum())
        per_draw = [(Ya[k, both & (draw == d)] - Yb[k, both & (draw == d)]).mean()
                    for d in np.unique(draw[both])]
        if cluster == "draw" and len(per_draw) >= 2:
            est = float(np.mean(per_draw))
            se, df, paired, by = np.std(per_draw, ddof=1) / math.sqrt(len(per_draw)), \
                len(per_draw) - 1, True, "draw"
        else:
            got = _unit_ratio(Ya[k], Yb[k], level)
            if got is None:
                continue
            (est, se, df, paired), by = got, "unit"
        if np.isfinite(se) and np.isfinite(df) and df > 0:
            lo, hi = t_interval(est, se, df, level)
        else:
            lo = hi = math.nan
        rows.append({"n": int(n), "ratio": math.exp(est), "ci_low": math.exp(lo),
                     "ci_high": math.exp(hi), "n_pairs": np_, "paired": paired,
                     "n_draws": len(per_draw), "clustered_by": by})
    return pd.DataFrame(rows, columns=["n", "ratio", "ci_low", "ci_high", "n_pairs", "paired",
                                       "n_draws", "clustered_by"])


CLUSTERS = ("draw", "unit")


def risk_ratios(results: pd.DataFrame, a: str, b: str, target=None,
                level: float = 0.95, cluster: str = "draw") -> pd.DataFrame:
    """Geometric-mean risk ratio ``a / b`` at every sample size, with its interval.

    Within a size the two estimators are paired by unit (target draw, replicate: the
    same training data in an nprates study) where both finished. ``cluster="draw"``
    (default; for the class): with pairs in >= 2 draws, the ratio is exp of the mean
    over draws of the per-draw mean log difference and the interval a ``level`` t
    interval over those per-draw means (draws - 1 df). ``cluster="unit"``, and any size
    with pairs in one draw only: the interval over pairs (df = pairs - 1), conditional on
    the drawn functions; with fewer than 2 pairs, a Welch interval on the two means.
    Sizes on the plateau are included (a ratio of risks needs no rate).

    Returns a DataFrame: n, ratio, ci_low, ci_high, n_pairs, paired (bool), n_draws
    (draws with pairs), clustered_by ("draw" or "unit").
    """
    if a is None or b is None or str(a) == str(b):
        raise ValueError(f"risk_ratios needs two different estimator names; got {a!r}, {b!r}")
    if not 0 < float(level) < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if cluster not in CLUSTERS:
        raise ValueError(f"cluster must be one of {list(CLUSTERS)}, got {cluster!r}")
    return _risk_ratio(layout(results, target, [a, b], keep_plateau=True, rate=False),
                       float(level), cluster)


def _common_sizes(lay, keep_plateau: bool):
    """(mask (K,), text) of the sizes where both estimators have fits and, unless
    ``keep_plateau``, neither is on the plateau; the text says which and why."""
    a, b = lay.estimators
    m = lay.m
    both = (m[0] > 0) & (m[1] > 0)
    common = both if keep_plateau else both & ~lay.plateau[0] & ~lay.plateau[1]
    sizes = [int(v) for v in lay.sizes[common]]
    parts = []
    for e, name in enumerate((a, b)):
        high = [int(v) for v in lay.sizes[lay.plateau[e] & ~lay.limited[e]]]
        held = [int(v) for v in lay.sizes[lay.limited[e]]]
        if high:
            parts.append(f"{name} is on the plateau at n = {', '.join(map(str, high))}")
        if held:
            parts.append(f"{name} is optimisation-limited at n = {', '.join(map(str, held))}, "
                         f"before it leaves the plateau")
    why = (f"Sizes compared: {'n = ' + ', '.join(map(str, sizes)) if sizes else 'none'}, "
           f"where both have fits"
           + ("" if keep_plateau else " and neither is on the plateau")
           + (f" ({'; '.join(parts)})" if parts and not keep_plateau else "") + ".")
    return common, why


def _difference(lay, fm, fa, fb, common_range, level, boot_se_diff, boot_df):
    """(estimands, variance) of beta_a - beta_b (module docstring)."""
    nan = estimand(math.nan, math.nan, math.nan, level)
    if common_range and fm.second_opinion:
        x = lay.x
        D = fm.adjust(lay.Y[0].T, x).T - fm.adjust(lay.Y[1].T, x).T
        comp = slope_components(D, x, lay.unit_draw, level)
        variance = ({k: comp[k] for k in ("within", "between", "within_source",
                                          "heterogeneity", "mixedlm")}
                    if len(comp["draws"]) > 1 else {})
        return {"class": comp["class"], "conditional": comp["conditional"]}, variance
    diff = fa.exponent - fb.exponent
    if len(lay.draws) < 2:
        return {"class": nan, "conditional": estimand(diff, boot_se_diff, boot_df, level)}, {}
    per = (fa.draw_exponents.set_index("draw")["exponent"]
           - fb.draw_exponents.set_index("draw")["exponent"])
    klass = class_estimand(per, level)
    ca, cb = fa.estimands["conditional"], fb.estimands["conditional"]
    cond = (estimand(diff, math.hypot(ca["se"], cb["se"]), min(ca["df"], cb["df"]), level)
            if fm.second_opinion else nan)
    return {"class": klass, "conditional": cond}, {}


def compare_rates(results: pd.DataFrame, a: str, b: str, margin: float = 0.1, target=None,
                  method="loglog", level: float = 0.95, n_boot: int = 2000, seed=0,
                  polylog_k=None, keep_plateau: bool = False,
                  common_range: bool = True) -> RateComparison:
    """Compare the exponents of estimators ``a`` and ``b`` on one target.

    margin : exponents within +-margin count as "comparable" (TOST).
    target : may be omitted when the table holds one target.
    method, level, n_boot, seed, polylog_k, keep_plateau : as in ``fit_rate``.
    common_range : compare on the sizes where both are off the plateau (default; the
        difference is the slope of the paired log risk ratio); False: each exponent on its
        own off-plateau sizes (the difference then also measures the ranges).
    """
    if a is None or b is None:
        raise ValueError("compare_rates needs two estimator names a and b")
    if str(a) == str(b):
        raise ValueError(f"compare_rates needs two different estimators; got {a!r} twice")
    if not (margin > 0):
        raise ValueError(f"margin must be positive, got {margin}")
    fm = make_method(method, polylog_k)
    if common_range:
        lay = layout(results, target, [a, b], keep_plateau=True)
        common, why = _common_sizes(lay, keep_plateau)
        if common.sum() < max(3, fm.n_params + 1):
            raise InsufficientData(
                f"{a!r} and {b!r} on target {lay.target!r}: {why[:-1]}; a common range needs "
                f">= {max(3, fm.n_params + 1)} sizes (keep_plateau=True also compares the plateau "
                f"sizes; common_range=False fits each estimator on its own range)")
        lay.Y[:, ~common] = np.nan
        lay.excluded = [[int(v) for v in lay.sizes[lay.plateau[e] & ~common]]
                        if not keep_plateau else [] for e in range(2)]
        lay.warnings = [w for w in lay.warnings if "on the plateau" not in w]
    else:
        lay = layout(results, target, [a, b], keep_plateau=keep_plateau)
        why = ("Each exponent on its own off-plateau sizes (separate ranges): the difference "
               "also measures where each curve leaves its plateau.")
    fa, fb = fit_layout(lay, fm, level, n_boot, seed, second_opinion=False)
    alpha = 1 - float(level)
    boot_diff_se = float(boot_se(fa._boot - fb._boot, robust=fm.robust_se))
    boot_df = float(np.nanmin([fa.df, fb.df]))
    estimands, variance = _difference(lay, fm, fa, fb, common_range, float(level),
                                      boot_diff_se, boot_df)
    which = "class" if np.isfinite(estimands["class"]["se"]) else "conditional"
    head = estimands[which]
    diff, se, df = head["estimate"], head["se"], head["df"]
    ci = t_interval(diff, se, df, level)
    if se > 0:
        p = t_pvalue(diff, se, df)
    else:
        p = 0.0 if diff != 0 else 1.0
    p_eq = tost_pvalue(diff, se, df, margin)
    eq_ci = t_interval(diff, se, df, 1 - 2 * alpha)
    comparable = bool(p_eq < alpha)
    status = "comparable" if comparable else ("different" if p < alpha else "inconclusive")
    reasons = []
    if fa.optimisation["limited"] or fb.optimisation["limited"]:
        reasons.append("optimisation-limited")
    if fa.optimisation.get("lr_limited") or fb.optimisation.get("lr_limited"):
        reasons.append("lr-limited")
    faster = (str(a) if diff > 0 else str(b)) if diff != 0 else ""
    warnings = []
    for f in (fa, fb):
        for w in f.warnings:
            own = w not in lay.warnings and not w.startswith(f"{f.estimator}:")
            warnings.append(f"{f.estimator}: {w}" if own else w)
    warnings = list(dict.fromkeys(warnings))
    if which == "conditional" and len(lay.draws) < 2:
        warnings.append("one target draw: the comparison is conditional on that function; "
                        "the class needs several draws")
    if fa.sizes != fb.sizes:
        warnings.append(f"{a} and {b} were fitted on different sample sizes ({fa.sizes} vs "
                        f"{fb.sizes}): their exponents describe different ranges")
    pairing = _pairing(lay)
    if pairing == "different data seeds":
        warnings.append(f"{a} and {b} do not share training data (data_seed differs): the "
                        f"comparison is valid but unpaired in the data")
    full = layout(results, lay.target, [a, b], keep_plateau=True, rate=False)
    rr = _risk_ratio(full, level)
    n_pairs = int((lay.valid[0] & lay.valid[1]).sum())
    sizes = sorted(set(fa.sizes) & set(fb.sizes))
    return RateComparison(
        target=lay.target, a=str(a), b=str(b), method=fm.name, level=float(level),
        margin=float(margin), exponent_a=fa.exponent, exponent_b=fb.exponent, ci_a=fa.ci,
        ci_b=fb.ci, difference=float(diff), se=float(se), ci=(float(ci[0]), float(ci[1])),
        df=float(df), p_value=p, p_equivalence=p_eq,
        equivalence_ci=(float(eq_ci[0]), float(eq_ci[1])),
        comparable=comparable, status=status, reasons=reasons, reason=", ".join(reasons),
        verdict=with_reason(status, reasons), faster=faster, risk_ratio=rr,
        pairing=pairing, n_pairs=n_pairs, resampling=lay.mode, n_boot=int(n_boot), seed=seed,
        fit_a=fa, fit_b=fb, warnings=warnings, common_range=bool(common_range), sizes=sizes,
        sizes_why=why, estimands=estimands, estimand=which, variance=variance)
