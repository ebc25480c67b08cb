"""Does the measured exponent agree with the theory's? ``check_theory``.

The data status (what the interval alone says), at alpha = 1 - level:

"consistent"
    an equivalence statement: the two one-sided tests (TOST) reject
    |beta - beta*| >= tolerance, i.e. the (1 - 2 alpha) interval lies inside
    (beta* - tolerance, beta* + tolerance). "Not rejected" is not enough: a wide
    interval that merely contains beta* is "inconclusive". The default tolerance 0.1
    equals ``compare_rates``' default margin, so "consistent with the theory" and
    "comparable to another estimator" mean the same precision.
"faster" / "slower"
    the ``level`` interval lies above / below beta* (a two-sided test rejects
    beta = beta*). When an interval is both inside the tolerance and excludes beta*
    (a small, precisely measured difference) the status is "consistent", as
    ``compare_rates`` calls such a pair "comparable".
"inconclusive"
    neither.

Reasons. A curve that is not a straight power law over the fitted sizes, or whose
risk is not set by n, has no single exponent to set against the theory's. So the
status is "inconclusive" and the verdict names the reason, whatever the interval says
(the data status stays in ``data_status``):

"pre-asymptotic"
    the curvature test of the fit flags the curve (either sign: it steepens, or it
    flattens towards a floor), so the exponent is an average over changing local
    slopes.
"optimisation-limited"
    more than 10% of the fitted cells stopped at their training cap, or the median
    optimisation gap is more than half the risk (``RateFit.optimisation``; the rule is
    justified in ``nprates.analysis.diagnostics.optimisation``).
"lr-limited"
    more than 10% of the fitted cells chose a learning rate at an edge of their final
    grid (column ``lr_edge``, ``nprates.analysis.diagnostics.lr_edges``): the best rate
    may lie outside it. Absent column: no such reason.

The verdict is the status, or "status (reason, ...)", e.g. "inconclusive
(pre-asymptotic)"; ``fit_all``'s verdict column holds the same string.

A (log n)^k factor lowers the log-log slope by about k / ln n (by
``fit.polylog_shift_per_k`` per unit of k over the fitted sizes); when the measured
exponent falls short of beta*, the explanation says which k would close the gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .formatting import jsonable, num
from .intervals import t_interval, t_pvalue, tost_pvalue
from .summary import Summary

STATUSES = ("consistent", "faster", "slower", "inconclusive")

#: Default tolerance of "consistent": equal to compare_rates' default margin.
TOLERANCE = 0.1


def fit_reasons(fit) -> list:
    """Why a fit's exponent cannot be read as a rate: "optimisation-limited",
    "lr-limited" and/or "pre-asymptotic" (module docstring); empty when there is no such reason."""
    reasons = []
    if (getattr(fit, "optimisation", None) or {}).get("limited"):
        reasons.append("optimisation-limited")
    if (getattr(fit, "optimisation", None) or {}).get("lr_limited"):
        reasons.append("lr-limited")
    if (getattr(fit, "curvature", None) or {}).get("flag"):
        reasons.append("pre-asymptotic")
    return reasons


def with_reason(status: str, reasons) -> str:
    """The verdict string: ``status``, or ``"status (reason, ...)"``."""
    return f"{status} ({', '.join(reasons)})" if reasons else status


@dataclass(eq=False)
class TheoryCheck:
    """The fitted exponent set against the theoretical one.

    Attributes: target, estimator, method, level, exponent (theoretical), estimate, se,
    ci (the fit's ``level`` interval), df, tolerance, contains (ci holds the theoretical
    exponent), p_value (two-sided, of beta = exponent), p_equivalence (TOST, of
    |beta - exponent| >= tolerance), equivalence_ci (the (1 - 2 alpha) interval the
    TOST uses), gap (exponent - estimate), polylog_shift_per_k, polylog_k_needed (k of a
    (log n)^k factor that would close a positive gap; NaN otherwise), width (ci width),
    data_status (what the interval alone says), status (one of ``STATUSES``; "inconclusive"
    whenever there is a reason), reasons (list), reason (joined by ", "; "" if none),
    verdict (status, or "status (reason)"), explanation (plain language), warnings (the
    fit's).
    """

    target: str
    estimator: str
    method: str
    level: float
    exponent: float
    estimate: float
    se: float
    ci: tuple
    df: float
    tolerance: float
    contains: bool
    p_value: float
    p_equivalence: float
    equivalence_ci: tuple
    gap: float
    polylog_shift_per_k: float
    polylog_k_needed: float
    width: float
    data_status: str
    status: str
    reasons: list
    reason: str
    verdict: str
    explanation: str
    warnings: list = field(default_factory=list)

    def conf_int(self, alpha: float = 0.05) -> tuple:
        """The (low, high) ``1 - alpha`` interval of the fitted exponent."""
        lo, hi = t_interval(self.estimate, self.se, self.df, 1 - float(alpha))
        return float(lo), float(hi)

    def summary(self) -> Summary:
        left = [("Target", self.target), ("Estimator", self.estimator),
                ("Method", self.method), ("Theory exponent", num(self.exponent)),
                ("Fitted exponent", num(self.estimate)),
                (f"{self.level:g} interval", f"[{num(self.ci[0])}, {num(self.ci[1])}]")]
        right = [("Verdict", self.verdict), ("Tolerance", f"+-{self.tolerance:g}"),
                 ("Interval contains", "yes" if self.contains else "no"),
                 ("P(beta = theory)", num(self.p_value, ".3g")),
                 ("P(TOST, |gap|>=tol)", num(self.p_equivalence, ".3g")),
                 ("Gap (theory - fit)", num(self.gap, "+.4f"))]
        s = Summary()
        s.add_header("Theory check", left, right)
        s.add_text(self.explanation)
        s.add_notes("Warnings of the fit", self.warnings)
        return s

    def __str__(self) -> str:
        return self.summary().as_text()

    def to_dict(self) -> dict:
        return jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})


def _polylog_note(fit, gap, per_k, k_needed) -> str:
    if not np.isfinite(k_needed):
        return ""
    size = (" That is a large power: a polylog factor alone hardly explains the gap."
            if k_needed > 2 else "")
    if np.isfinite(getattr(fit, "polylog_k", math.nan)):
        return (f" The fit already divides out (log n)^{fit.polylog_k:.3g}; a further "
                f"factor with k = {k_needed:.2f} would close the gap.{size}")
    return (f" A (log n)^k factor in the risk lowers the log-log slope by {per_k:.3f} per "
            f"unit of k over these sizes: k = {k_needed:.2f} would close the gap of "
            f"{gap:.3f}.{size}")


def check_theory(fit, exponent=None, tolerance: float = TOLERANCE,
                 level=None) -> TheoryCheck:
    """Set a RateFit against the theoretical exponent (default: ``fit.theory_exponent``).

    tolerance : half-width of the equivalence region around the theoretical exponent
        (default 0.1, compare_rates' default margin).
    level : of the tests (default: the fit's level); alpha = 1 - level.

    Returns a TheoryCheck whose status, reason and verdict follow the module docstring.
    """
    if exponent is None:
        exponent = getattr(fit, "theory_exponent", math.nan)
        if exponent is None or not np.isfinite(exponent):
            raise ValueError("no theoretical exponent: pass exponent= or fit a table with a "
                             "'theory_exponent' column")
    exponent = float(exponent)
    if not np.isfinite(exponent):
        raise ValueError(f"theoretical exponent must be finite, got {exponent}")
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    level = float(fit.level if level is None else level)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    alpha = 1 - level
    est, se, df = float(fit.exponent), float(fit.se), float(fit.df)
    lo, hi = (float(v) for v in t_interval(est, se, df, level))
    eq_lo, eq_hi = (float(v) for v in t_interval(est, se, df, 1 - 2 * alpha))
    contains = bool(lo <= exponent <= hi)
    p = t_pvalue(est, se, df, exponent)
    p_eq = tost_pvalue(est, se, df, tolerance, exponent)
    gap = exponent - est
    per_k = float(getattr(fit, "polylog_shift_per_k", math.nan))
    k_needed = gap / per_k if (gap > 0 and per_k > 0) else math.nan
    if p_eq < alpha:
        data_status = "consistent"
    elif lo > exponent:
        data_status = "faster"
    elif hi < exponent:
        data_status = "slower"
    else:
        data_status = "inconclusive"
    reasons = fit_reasons(fit)
    status = "inconclusive" if reasons else data_status
    head = (f"Fitted exponent {est:.3f} ({level:g} interval [{lo:.3f}, {hi:.3f}]) against "
            f"the theoretical {exponent:.3f}.")
    eq = (f"the {1 - 2 * alpha:g} interval [{eq_lo:.3f}, {eq_hi:.3f}] "
          f"{'lies' if data_status == 'consistent' else 'does not lie'} within "
          f"+-{tolerance:g} of it")
    text = {
        "consistent": f"Consistent: {eq} (TOST p = {p_eq:.3g}).",
        "faster": f"Faster than the theory's rate (p = {p:.3g}); {eq}. An upper bound "
                  f"need not be tight: the target may be easier than the class's worst "
                  f"case.",
        "slower": f"Slower than the theory's rate allows (p = {p:.3g}); {eq}.",
        "inconclusive": f"Inconclusive: neither excluded (p = {p:.3g}) nor shown within "
                        f"the tolerance: {eq}; more replicates or sizes narrow the "
                        f"interval.",
    }[data_status]
    if data_status in ("slower", "inconclusive"):
        text += _polylog_note(fit, gap, per_k, k_needed)
    if reasons:
        why = []
        if "optimisation-limited" in reasons:
            why += list(fit.optimisation["why"])
        if "pre-asymptotic" in reasons:
            c = fit.curvature
            why.append(f"the curvature test flags the log-log curve (p = {c['p_value']:.3g} "
                       f"< {c.get('alpha', 1 - level):g}): the local exponent changes over "
                       f"the sizes, so the fitted one is an average, not the rate")
        lead = ("Inconclusive" if data_status == "inconclusive" else
                f"Not reported as {data_status} but inconclusive")
        text = (f"{lead} ({', '.join(reasons)}): " + "; ".join(why)
                + f". What the interval alone says: {text}")
    warns = list(getattr(fit, "warnings", []))
    explanation = f"{head} {text}"
    if warns:
        explanation += f" Caution: the fit has {len(warns)} warning(s) (see below)."
    return TheoryCheck(
        target=getattr(fit, "target", ""), estimator=getattr(fit, "estimator", ""),
        method=getattr(fit, "method", ""), level=level, exponent=exponent, estimate=est, se=se,
        ci=(lo, hi), df=df, tolerance=float(tolerance), contains=contains, p_value=p,
        p_equivalence=p_eq, equivalence_ci=(eq_lo, eq_hi), gap=gap,
        polylog_shift_per_k=per_k, polylog_k_needed=k_needed, width=hi - lo,
        data_status=data_status, status=status, reasons=reasons, reason=", ".join(reasons),
        verdict=with_reason(status, reasons), explanation=explanation, warnings=warns)
