"""``FitMethod``: what a way of fitting the exponent has to provide.

A fit method turns per-size mean log risks into an exponent. ``fit_rate`` only calls
the methods below, so a new method is one new subclass (registered in
``nprates.analysis.methods.METHODS`` to be chosen by name, or passed as an object).

Arrays: ``x`` (K,) natural-log sizes; ``w`` (K,) weights (fitted cells per size, 0 =
left out); ``Ym`` (M, K) rows of per-size means (the point estimate, M = 1, or the
bootstrap draws); an *estimate* is a dict of (M,) arrays with at least "exponent" and
"intercept".
"""

from __future__ import annotations

import math

import numpy as np

from ..contrasts import line_contrasts


class FitMethod:
    """Base class of the fit methods: a straight line in log-log unless overridden."""

    #: name used in tables, JSON and ``fit_rate(method=...)``.
    name = ""
    #: parameters of the fitted curve (residual bootstrap and its df).
    n_params = 2
    #: standard errors from the normalised IQR of the draws instead of their SD.
    robust_se = False
    #: the statsmodels cluster-robust OLS second opinion applies (linear in log n).
    second_opinion = True
    #: power k of a (log n)^k factor the method divides out (NaN: none).
    polylog_k = math.nan

    @classmethod
    def from_options(cls, polylog_k=None) -> "FitMethod":
        """The method built from ``fit_rate``'s options (each class takes what it needs)."""
        return cls()

    def check_sizes(self, sizes: np.ndarray) -> None:
        """Raise ValueError if the method cannot fit these sample sizes."""

    def adjust(self, Y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The log risks the method fits (e.g. with a polylog factor divided out)."""
        return Y

    def estimate(self, Ym: np.ndarray, x: np.ndarray, w: np.ndarray, warm=None) -> dict:
        """Fit each row of adjusted means Ym (M, K); ``warm``: the point estimate, given
        when fitting bootstrap rows."""
        c_exp, c_int = line_contrasts(x, w)
        return {"exponent": Ym @ c_exp, "intercept": Ym @ c_int}

    def fitted_log(self, est: dict, x: np.ndarray) -> np.ndarray:
        """(K,) fitted log risk (unadjusted) of a point estimate."""
        return est["intercept"][0] - est["exponent"][0] * x

    def exponent_contrast(self, ya, x, w, point) -> np.ndarray:
        """(K,) linear contrast of the exponent in the adjusted means (for its df)."""
        return line_contrasts(x, w)[0]

    def extra_fields(self, point: dict, boot: dict, level: float) -> dict:
        """Method-specific RateFit fields (e.g. the offset's floor)."""
        return {}

    def warnings(self, point: dict, ya: np.ndarray, w: np.ndarray) -> list:
        """Cautions about this fit (plain language)."""
        return []

    def summary_pairs(self, fit) -> tuple:
        """(left, right) extra header pairs of ``fit.summary()``."""
        return [], []

    def summary_rows(self, fit) -> list:
        """Extra coefficient rows (name, coef, se, t, p, low, high) of the summary."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
