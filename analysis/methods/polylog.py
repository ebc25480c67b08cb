"""``PolyLog``: a power law with a known (log n)^k factor."""

from __future__ import annotations

import math

import numpy as np

from ..formatting import num
from .base import FitMethod


class PolyLog(FitMethod):
    """log risk = c - beta log n + k log log n, with the polylog power k given.

    The theory leaves k open, so there is no default. A (log n)^k factor lowers the
    log-log slope by about k / ln n; ``RateFit.polylog_shift`` reports how much
    accounting for it moves beta (beta_polylog - beta_loglog).
    """

    name = "polylog"

    def __init__(self, k: float):
        try:
            k = float(k)
        except (TypeError, ValueError):
            k = math.nan
        if not np.isfinite(k):
            raise ValueError("method 'polylog' needs the polylog power: pass polylog_k= (the "
                             "theory leaves it open, so nprates does not assume one)")
        self.polylog_k = k

    @classmethod
    def from_options(cls, polylog_k=None) -> "PolyLog":
        return cls(polylog_k)

    def check_sizes(self, sizes):
        if (np.asarray(sizes) <= 1).any():
            raise ValueError("method 'polylog' needs sample sizes n > 1 (column 'n')")

    def adjust(self, Y, x):
        return Y - self.polylog_k * np.log(x)

    def fitted_log(self, est, x):
        return super().fitted_log(est, x) + self.polylog_k * np.log(x)

    def summary_pairs(self, fit):
        return ([("Polylog power k", num(self.polylog_k, ".3g"))],
                [("Shift by polylog", num(fit.polylog_shift, "+.4f"))])

    def __repr__(self) -> str:
        return f"PolyLog(k={self.polylog_k:g})"
