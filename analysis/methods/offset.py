"""``Offset``: a power law above a floor, risk = E + A n^-beta."""

from __future__ import annotations

import math

import numpy as np

from .base import FitMethod
from .offset_solver import BETA_BOUNDS, offset_lm, offset_starts


class Offset(FitMethod):
    """risk = E + A n^-beta with E >= 0 (an optimisation or approximation floor).

    Fitted to the per-size mean log risks in log space by a batched, bounded
    Levenberg-Marquardt from up to 21 starts (floors 0-90% of the smallest mean risk,
    several exponents); ``intercept`` is log A and ``floor`` is E. Its bootstrap SE is
    the normalised IQR of the draws (a few draws run off when the floor absorbs the
    curve), its df those of the linearised fit. Measured (7 sizes, 5 replicates, 1,000
    simulations): coverage 0.962 and bias +0.045 on a pure power law, 0.939 and +0.029
    with a floor of 30% of the risk at the largest size: the nonlinear fit overstates
    the exponent a little.
    """

    name = "offset"
    n_params = 3
    robust_se = True
    second_opinion = False

    def estimate(self, Ym, x, w, warm=None):
        use = w > 0
        xr = (w * x).sum() / w.sum()
        xc = x - xr
        scale = np.exp(np.where(use, Ym, np.inf).min(axis=1))
        M = Ym.shape[0]
        lin = super().estimate(Ym, x, w)
        a_lin = lin["intercept"] - lin["exponent"] * xr
        if warm is None:  # one problem, many starts
            if M != 1:
                raise RuntimeError("multi-start is for a single problem")
            th0 = np.vstack([offset_starts(Ym[0], w, float(lin["exponent"][0])),
                             [a_lin[0], lin["exponent"][0], 0.0]])
        else:  # bootstrap rows: start from the point estimate and from each row's line
            a_w = warm["intercept"][0] - warm["exponent"][0] * xr
            u_w = warm["floor"][0] / scale
            th_warm = np.column_stack([np.full(M, a_w), np.full(M, warm["exponent"][0]), u_w])
            th_lin = np.column_stack([a_lin, lin["exponent"], np.zeros(M)])
            th0 = np.vstack([th_warm, th_lin])
        S = len(th0) // M  # start s of row r is entry s * M + r
        rows = np.tile(np.arange(M), S)
        th, sse = offset_lm(Ym[rows], xc, w, th0, scale[rows])
        best_start = np.nan_to_num(sse, nan=np.inf).reshape(S, M).argmin(axis=0)
        pick = best_start * M + np.arange(M)
        th = th[pick]
        beta = th[:, 1]
        return {"exponent": beta, "intercept": th[:, 0] + beta * xr,
                "floor": scale * th[:, 2], "sse": sse[pick]}

    def fitted_log(self, est, x):
        return np.log(est["floor"][0] + np.exp(est["intercept"][0] - est["exponent"][0] * x))

    def exponent_contrast(self, ya, x, w, point, h=1e-4):
        """d exponent / d mean log risk at each size (the fit's linearised contrast)."""
        est = self.estimate(ya[None] + h * np.eye(len(ya)), x, w, warm=point)
        return (est["exponent"] - point["exponent"][0]) / h * (w > 0)

    def extra_fields(self, point, boot, level):
        lo, hi = np.nanpercentile(boot["floor"], [50 * (1 - level), 50 * (1 + level)])
        return {"floor": float(point["floor"][0]), "floor_ci": (float(lo), float(hi))}

    def warnings(self, point, ya, w):
        out = []
        beta, floor = float(point["exponent"][0]), float(point["floor"][0])
        hi_b = BETA_BOUNDS[1]
        if beta >= hi_b - 1e-6:
            out.append(f"offset fit is degenerate: the exponent reached its bound {hi_b}; "
                       f"the floor dominates every size")
        last = int(np.flatnonzero(w > 0)[-1])
        if floor > 0.5 * math.exp(ya[last]):
            out.append(f"the fitted floor E={floor:.3g} is more than half the risk at the "
                       f"largest size: the exponent is extrapolated beyond the data and "
                       f"uncertain")
        return out

    def summary_rows(self, fit):
        return [("floor E", fit.floor, math.nan, math.nan, math.nan, *fit.floor_ci)]
