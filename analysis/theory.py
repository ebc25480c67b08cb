"""Is the fitted exponent consistent with the theory's? ``check_theory``.

The theory bounds the risk from above: E||F_hat - F||^2 <~ n^-beta* polylog(n). So
the data contradict it only when the risk falls *more slowly* than n^-beta*: the
one-sided test is H0: beta >= beta* - tolerance against beta < beta* - tolerance. A
faster measured rate does not contradict an upper bound (the target may be easier
than the class's worst case, or the sizes pre-asymptotic).

A (log n)^k factor lowers the log-log slope by about k / ln n (by
``fit.polylog_shift_per_k`` per unit of k over the fitted sizes); when the measured
exponent falls short of beta*, the verdict says which k would explain the gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from ._core import t_cdf

from ._format import header, jsonable, notes, num, wrap

STATUSES = ("consistent", "faster", "slower", "inconclusive")


@dataclass(eq=False)
class TheoryCheck:
    """The fitted exponent set against the theoretical one.

    Attributes: target, estimator, method, level, exponent (theoretical), estimate, se,
    ci, df, tolerance, contains (interval holds the theoretical exponent), p_value
    (one-sided, of beta >= exponent - tolerance; small = slower than theory),
    rejected (p_value < 1 - level), gap (exponent - estimate), polylog_shift_per_k,
    polylog_k_needed (k of a (log n)^k factor that would close a positive gap; NaN
    otherwise), width (interval width), max_width, status (one of "consistent",
    "faster", "slower", "inconclusive"), verdict (plain language), warnings (the fit's).
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
    rejected: bool
    gap: float
    polylog_shift_per_k: float
    polylog_k_needed: float
    width: float
    max_width: float
    status: str
    verdict: str
    warnings: list = field(default_factory=list)

    def conf_int(self) -> tuple:
        return self.ci

    def summary(self) -> str:
        left = [("Target", self.target), ("Estimator", self.estimator),
                ("Method", self.method), ("Theory exponent", num(self.exponent)),
                ("Fitted exponent", num(self.estimate)),
                (f"{self.level:g} interval", f"[{num(self.ci[0])}, {num(self.ci[1])}]")]
        right = [("Status", self.status), ("Tolerance", num(self.tolerance, ".3g")),
                 ("Interval contains", "yes" if self.contains else "no"),
                 ("P(beta >= th - tol)", num(self.p_value, ".3g")),
                 ("Gap (theory - fit)", num(self.gap, "+.4f")),
                 ("Polylog k to close", num(self.polylog_k_needed, ".2f"))]
        lines = header("Theory check", left, right)
        lines += wrap(self.verdict)
        lines += notes("Warnings of the fit", self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        return jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})


def check_theory(fit, exponent=None, tolerance: float = 0.05, level=None,
                 max_width: float = 0.4) -> TheoryCheck:
    """Set a RateFit against the theoretical exponent (default: ``fit.theory_exponent``).

    tolerance : how far below the theoretical exponent still counts as agreement.
    level : of the one-sided test (default: the fit's level; rejected if p < 1 - level).
    max_width : an interval wider than this that does not reject is "inconclusive":
        the data cannot tell the theory's exponent from quite different ones.
    """
    if exponent is None:
        exponent = getattr(fit, "theory_exponent", math.nan)
        if exponent is None or not np.isfinite(exponent):
            raise ValueError("no theoretical exponent: pass exponent= or fit a table with a "
                             "'theory_exponent' column")
    exponent = float(exponent)
    if not np.isfinite(exponent):
        raise ValueError(f"theoretical exponent must be finite, got {exponent}")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    level = float(fit.level if level is None else level)
    lo, hi = fit.ci
    est, se, df = float(fit.exponent), float(fit.se), float(fit.df)
    contains = bool(lo <= exponent <= hi)
    bound = exponent - tolerance
    if se > 0 and np.isfinite(se):
        p = t_cdf((est - bound) / se, df)
    else:
        p = 0.0 if est < bound else 1.0
    rejected = bool(p < 1 - level)
    gap = exponent - est
    per_k = float(getattr(fit, "polylog_shift_per_k", math.nan))
    k_needed = gap / per_k if (gap > 0 and per_k > 0) else math.nan
    width = float(hi - lo)
    polylog_fit = getattr(fit, "method", "") == "polylog"

    def polylog_note():
        if polylog_fit:
            return (f" The fit already includes a (log n)^{num(fit.polylog_k, '.3g')} factor; "
                    f"a further factor with k = {k_needed:.2f} would close the gap.")
        if not np.isfinite(k_needed):
            return ""
        plaus = "which is plausible" if k_needed <= 3 else "a large power, so the polylog " \
                                                           "factor alone hardly explains it"
        return (f" A (log n)^k factor in the risk lowers the log-log slope by "
                f"{per_k:.3f} per unit of k over these sizes: k = {k_needed:.2f} would "
                f"explain the gap ({plaus}); refit with method='polylog' to check.")

    head = (f"Fitted exponent {est:.3f} ({level:g} interval [{lo:.3f}, {hi:.3f}]) against "
            f"the theoretical {exponent:.3f}.")
    if rejected:
        status = "slower"
        verdict = (f"{head} The risk falls more slowly than the theory's rate allows (one-sided "
                   f"p = {p:.3g} for beta >= {bound:.3f}).") + polylog_note()
    elif lo > exponent:
        status = "faster"
        verdict = (f"{head} The risk falls faster than the theoretical rate: consistent with "
                   f"the theory's upper bound, which is not tight here (an easier target than "
                   f"the worst case, or pre-asymptotic sizes).")
    elif width > max_width:
        status = "inconclusive"
        verdict = (f"{head} Inconclusive: the interval is {width:.2f} wide (more than "
                   f"{max_width:g}), so the data cannot tell the theoretical exponent from "
                   f"quite different ones; add replicates or sizes.")
    else:
        status = "consistent"
        if contains:
            verdict = f"{head} Consistent: the interval contains the theoretical exponent."
        else:
            verdict = (f"{head} Consistent within the tolerance {tolerance:g}: the exponent is "
                       f"below the theory's but not significantly more than {tolerance:g} "
                       f"below.") + polylog_note()
    warns = list(getattr(fit, "warnings", []))
    if warns:
        verdict += f" Caution: the fit has {len(warns)} warning(s) (see below)."
    return TheoryCheck(
        target=getattr(fit, "target", ""), estimator=getattr(fit, "estimator", ""),
        method=getattr(fit, "method", ""), level=level, exponent=exponent, estimate=est, se=se,
        ci=(float(lo), float(hi)), df=df, tolerance=float(tolerance), contains=contains,
        p_value=p, rejected=rejected, gap=gap, polylog_shift_per_k=per_k,
        polylog_k_needed=k_needed, width=width, max_width=float(max_width), status=status,
        verdict=verdict, warnings=warns)
