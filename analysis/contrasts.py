"""Linear contrasts of the per-size mean log risks: line, curvature, local slopes.

Each function takes the (K,) natural-log sizes ``x`` and (K,) weights ``w`` (fitted
cells per size; 0 leaves a size out) and returns contrast vectors ``c`` such that a
statistic equals ``c @ ybar`` for per-size means ``ybar``.
"""

from __future__ import annotations

import numpy as np


def line_contrasts(x: np.ndarray, w: np.ndarray):
    """Contrasts for the weighted least-squares line through per-size means.

    Returns (c_exponent, c_intercept), each (K,): exponent = -slope = c_exponent @ ybar,
    intercept = c_intercept @ ybar (natural log, at n = 1).
    """
    W = w.sum()
    xbar = (w * x).sum() / W
    sxx = (w * (x - xbar) ** 2).sum()
    c_slope = w * (x - xbar) / sxx
    c_int = w / W - xbar * c_slope
    return -c_slope, c_int


def quad_contrast(x: np.ndarray, w: np.ndarray):
    """Contrast for the coefficient of (log n - mean)^2 in a weighted quadratic fit
    (None with fewer than 3 weighted sizes)."""
    use = w > 0
    if use.sum() < 3:
        return None
    xbar = (w * x).sum() / w.sum()
    u = x - xbar
    X = np.column_stack([np.ones_like(u), u, u ** 2])
    XtW = X.T * w
    return np.linalg.solve(XtW @ X, XtW)[2]


def slope_contrasts(x: np.ndarray, w: np.ndarray):
    """Local exponents between consecutive sizes with fits.

    Returns (idx, C): idx the indices of weighted sizes, C (len(idx) - 1, K).
    """
    idx = np.flatnonzero(w > 0)
    C = np.zeros((max(len(idx) - 1, 0), len(x)))
    for j, (a, b) in enumerate(zip(idx[:-1], idx[1:])):
        C[j, a] = 1.0 / (x[b] - x[a])
        C[j, b] = -1.0 / (x[b] - x[a])
    return idx, C
