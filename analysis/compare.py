"""Do two estimators converge at the same rate? ``compare_rates``.

Both exponents are fitted on the same bootstrap draws of the independent units
(the (n, replicate) cells, or whole replicate curves for nested data). In nprates
studies all estimators of one (n, replicate) train on the same data (same
``data_seed``), so the draws are paired and the shared noise cancels in the
difference. The paired bootstrap stays valid when the data are not shared; it then
gains nothing.

Decisions (``status``), at ``alpha = 1 - level``:
- "comparable": the two one-sided tests (TOST) reject |beta_a - beta_b| >= margin,
  i.e. the (1 - 2 alpha) interval of the difference lies inside (-margin, margin);
- "different": the two-sided test of equal exponents rejects;
- "inconclusive": neither (too little data for either conclusion).
Both can hold when the difference is small but precisely measured; the status is
then "comparable" and ``p_value`` still shows the difference.

When either curve is optimisation-limited (cells stopped at their training cap, or an
optimisation gap comparable to the risk: ``RateFit.optimisation``), the difference
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
from .layout import layout
from .methods import make_method
from .rate_fit import RateFit
from .rates import fit_layout
from .summary import Summary
from .theory import with_reason


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

    def conf_int(self, alpha: float = 0.05) -> tuple:
        """The (low, high) ``1 - alpha`` interval of the difference beta_a - beta_b."""
        lo, hi = t_interval(self.difference, self.se, self.df, 1 - float(alpha))
        return float(lo), float(hi)

    def summary(self) -> Summary:
        left = [("Target", self.target), ("Estimator a", self.a), ("Estimator b", self.b),
                ("Method", self.method), ("Pairing", self.pairing),
                ("Pairs (both ok)", self.n_pairs)]
        right = [("Verdict", self.verdict), ("Margin", f"+-{self.margin:g}"),
                 ("P(equal exponents)", num(self.p_value, ".3g")),
                 ("P(TOST, |diff|>=m)", num(self.p_equivalence, ".3g")),
                 ("Resampling", self.resampling), ("df (t)", num(self.df, ".1f"))]
        s = Summary()
        s.add_header("Convergence rate comparison", left, right)

        def row(name, est, se, ci, df):
            t = est / se if se > 0 else math.nan
            return (name, est, se, t, t_pvalue(est, se, df), *ci)

        s.add_coefficients([row("exponent a", self.exponent_a, self.fit_a.se, self.ci_a,
                                self.fit_a.df),
                            row("exponent b", self.exponent_b, self.fit_b.se, self.ci_b,
                                self.fit_b.df),
                            row("difference a-b", self.difference, self.se, self.ci,
                                self.df)], self.level)
        s.add_rule("=")
        rr = self.risk_ratio.copy()
        rr["ci"] = [ci_text(lo, hi, ".3g") for lo, hi in zip(rr["ci_low"], rr["ci_high"])]
        s.add_text(f"Risk ratio {self.a} / {self.b} (geometric means) at each n:")
        s.add_frame(rr, {"n": ("n", 9, ".0f"), "n_pairs": ("pairs", 7, ".0f"),
                         "ratio": ("ratio", 12, ".4g"),
                         "ci": (f"[{self.level:g} CI]", 24, None)})
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
                f"p = {c.p_value:.3g}).")
    else:
        text = (f"Inconclusive: neither equal within +-{c.margin:g} nor significantly "
                f"different; more replicates or sizes are needed.")
    for f in (c.fit_a, c.fit_b):
        for why in f.optimisation["why"]:
            text += f" {f.estimator} is optimisation-limited: {why}."
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


def _risk_ratio(lay, level) -> pd.DataFrame:
    Ya, Yb = lay.Y
    rows = []
    for k, n in enumerate(lay.sizes):
        both = ~np.isnan(Ya[k]) & ~np.isnan(Yb[k])
        np_ = int(both.sum())
        if np_ >= 2:
            d = Ya[k, both] - Yb[k, both]
            est, se, df, paired = d.mean(), d.std(ddof=1) / math.sqrt(np_), np_ - 1, True
        else:
            a, b = Ya[k][~np.isnan(Ya[k])], Yb[k][~np.isnan(Yb[k])]
            paired = False
            if len(a) == 0 or len(b) == 0:
                continue
            est = a.mean() - b.mean()
            if len(a) >= 2 and len(b) >= 2:
                va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
                se = math.sqrt(va + vb)
                df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) \
                    if va + vb > 0 else math.inf
            else:
                se, df = math.nan, math.nan
        if np.isfinite(se) and np.isfinite(df) and df > 0:
            lo, hi = t_interval(est, se, df, level)
        else:
            lo = hi = math.nan
        rows.append({"n": int(n), "ratio": math.exp(est), "ci_low": math.exp(lo),
                     "ci_high": math.exp(hi), "n_pairs": np_, "paired": paired})
    return pd.DataFrame(rows, columns=["n", "ratio", "ci_low", "ci_high", "n_pairs", "paired"])


def risk_ratios(results: pd.DataFrame, a: str, b: str, target=None,
                level: float = 0.95) -> pd.DataFrame:
    """Geometric-mean risk ratio ``a / b`` at every sample size, with its interval.

    Within a size the two estimators are paired by unit (target draw, replicate: the
    same training data in an nprates study) where both finished: the ratio is exp of the
    mean log difference, the interval a ``level`` t interval on it (df = pairs - 1);
    with fewer than 2 pairs, a Welch interval on the two means. Sizes at the trivial
    plateau are included (a ratio of risks needs no rate). The intervals are
    conditional on the drawn target functions; for the class, compare per-draw ratios
    (``results[results.draw == d]``).

    Returns a DataFrame: n, ratio, ci_low, ci_high, n_pairs, paired (bool).
    """
    if a is None or b is None or str(a) == str(b):
        raise ValueError(f"risk_ratios needs two different estimator names; got {a!r}, {b!r}")
    if not 0 < float(level) < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    return _risk_ratio(layout(results, target, [a, b], keep_plateau=True, rate=False),
                       float(level))


def compare_rates(results: pd.DataFrame, a: str, b: str, margin: float = 0.1, target=None,
                  method="loglog", level: float = 0.95, n_boot: int = 2000, seed=0,
                  polylog_k=None, keep_plateau: bool = False) -> RateComparison:
    """Compare the exponents of estimators ``a`` and ``b`` on one target.

    margin : exponents within +-margin count as "comparable" (TOST).
    target : may be omitted when the table holds one target.
    method, level, n_boot, seed, polylog_k, keep_plateau : as in ``fit_rate``.
    """
    if a is None or b is None:
        raise ValueError("compare_rates needs two estimator names a and b")
    if str(a) == str(b):
        raise ValueError(f"compare_rates needs two different estimators; got {a!r} twice")
    if not (margin > 0):
        raise ValueError(f"margin must be positive, got {margin}")
    fm = make_method(method, polylog_k)
    lay = layout(results, target, [a, b], keep_plateau=keep_plateau)
    fa, fb = fit_layout(lay, fm, level, n_boot, seed, second_opinion=False)
    alpha = 1 - float(level)
    diff = fa.exponent - fb.exponent
    se = float(boot_se(fa._boot - fb._boot, robust=fm.robust_se))
    df = float(np.nanmin([fa.df, fb.df]))
    ci = t_interval(diff, se, df, level)
    if se > 0:
        p = t_pvalue(diff, se, df)
    else:
        p = 0.0 if diff != 0 else 1.0
    p_eq = tost_pvalue(diff, se, df, margin)
    eq_ci = t_interval(diff, se, df, 1 - 2 * alpha)
    comparable = bool(p_eq < alpha)
    status = "comparable" if comparable else ("different" if p < alpha else "inconclusive")
    reasons = (["optimisation-limited"] if fa.optimisation["limited"]
               or fb.optimisation["limited"] else [])
    faster = (str(a) if diff > 0 else str(b)) if diff != 0 else ""
    warnings = []
    for f in (fa, fb):
        for w in f.warnings:
            own = w not in lay.warnings and not w.startswith(f"{f.estimator}:")
            warnings.append(f"{f.estimator}: {w}" if own else w)
    warnings = list(dict.fromkeys(warnings))
    if fa.sizes != fb.sizes:
        warnings.append(f"{a} and {b} were fitted on different sample sizes ({fa.sizes} vs "
                        f"{fb.sizes}): their exponents describe different ranges")
    pairing = _pairing(lay)
    if pairing == "different data seeds":
        warnings.append(f"{a} and {b} do not share training data (data_seed differs): the "
                        f"comparison is valid but unpaired in the data")
    rr = _risk_ratio(lay, level)
    n_pairs = int((lay.valid[0] & lay.valid[1]).sum())
    return RateComparison(
        target=lay.target, a=str(a), b=str(b), method=fm.name, level=float(level),
        margin=float(margin), exponent_a=fa.exponent, exponent_b=fb.exponent, ci_a=fa.ci,
        ci_b=fb.ci, difference=float(diff), se=se, ci=(float(ci[0]), float(ci[1])), df=df,
        p_value=p, p_equivalence=p_eq, equivalence_ci=(float(eq_ci[0]), float(eq_ci[1])),
        comparable=comparable, status=status, reasons=reasons, reason=", ".join(reasons),
        verdict=with_reason(status, reasons), faster=faster, risk_ratio=rr,
        pairing=pairing, n_pairs=n_pairs, resampling=lay.mode, n_boot=int(n_boot), seed=seed,
        fit_a=fa, fit_b=fb, warnings=warnings)
