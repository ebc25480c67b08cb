"""Student-t intervals and p-values from an estimate, its standard error and df.

Every interval nprates reports is ``estimate +- t_{df} * se``: the bootstrap
(``nprates.analysis.bootstrap``) supplies the standard error and the design the degrees
of freedom. These helpers are public so that reports and users draw the same
intervals as the fits (e.g. at another level).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special


def t_quantile(p: float, df: float) -> float:
    """Quantile of Student's t at probability ``p`` (normal when df is infinite or NaN)."""
    return float(special.stdtrit(df, p)) if np.isfinite(df) else float(special.ndtri(p))


def t_cdf(t: float, df: float) -> float:
    """Distribution function of Student's t (normal when df is infinite or NaN)."""
    return float(special.stdtr(df, t)) if np.isfinite(df) else float(special.ndtr(t))


def t_interval(est: float, se: float, df: float, level: float) -> tuple:
    """The two-sided ``level`` interval ``est +- t_{df, (1+level)/2} * se`` as (low, high)."""
    q = t_quantile(0.5 + level / 2, df)
    return est - q * se, est + q * se


def t_pvalue(est: float, se: float, df: float, null: float = 0.0) -> float:
    """Two-sided p-value of ``est = null`` (NaN when se is not positive and finite)."""
    if not (np.isfinite(se) and se > 0):
        return math.nan
    return 2 * t_cdf(-abs(est - null) / se, df)


def tost_pvalue(est: float, se: float, df: float, margin: float, null: float = 0.0) -> float:
    """p-value of the two one-sided tests of ``|est - null| >= margin`` (equivalence).

    Small p: the difference lies within +-margin, i.e. the (1 - 2 alpha) interval lies
    inside (null - margin, null + margin). With se 0 the answer is 0 or 1.
    """
    d = est - null
    if not (np.isfinite(se) and se > 0):
        return 0.0 if abs(d) < margin else 1.0
    return max(1 - t_cdf((d + margin) / se, df), t_cdf((d - margin) / se, df))


def boot_se(draws: np.ndarray, robust: bool = False) -> np.ndarray:
    """Standard error from bootstrap draws (axis 0); ``robust``: the normalised IQR."""
    if robust:
        q75, q25 = np.nanpercentile(draws, [75, 25], axis=0)
        return (q75 - q25) / (2 * special.ndtri(0.75))
    return np.nanstd(draws, axis=0, ddof=1)


def bm_df(c: np.ndarray, m: np.ndarray) -> float:
    """Bell-McCaffrey / Satterthwaite degrees of freedom of sum_k c_k^2 s_k^2 / m_k.

    c (K,): a linear contrast of per-size means; m (K,): observations per size.
    """
    use = (m > 1) & (c != 0)
    if not use.any():
        return math.nan
    a = c[use] ** 2 / m[use]
    return float(a.sum() ** 2 / (a ** 2 / (m[use] - 1)).sum())
