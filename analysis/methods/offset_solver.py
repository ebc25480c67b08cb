"""Batched, bounded Levenberg-Marquardt for the offset curve log(E + A n^-beta)."""

from __future__ import annotations

import math

import numpy as np

#: The exponent is kept inside these bounds.
BETA_BOUNDS = (-2.0, 10.0)


def _offset_rj(th, x, y, sw, scale):
    p = np.exp(np.clip(th[:, 0:1] - th[:, 1:2] * x, -700.0, 700.0))
    s = scale[:, None] * th[:, 2:3] + p
    r = (y - np.log(s)) * sw
    J = np.stack([p / s, -x * p / s, np.broadcast_to(scale[:, None] / s, p.shape)], -1)
    return r, J * sw[..., None]


def offset_lm(y, x, w, theta0, scale, iters: int = 200, tol: float = 1e-12):
    """Batched Levenberg-Marquardt for log risk = log(E + exp(a - beta x)), E = scale * u >= 0.

    y (M, K) per-size means, x (K,) centred log sizes, w (M, K) or (K,) weights,
    theta0 (M, 3) starts (a, beta, u), scale (M,). Returns theta (M, 3) and the
    weighted sum of squares (M,). beta is kept in BETA_BOUNDS and u >= 0.
    """
    th = np.array(theta0, dtype=float)
    M = th.shape[0]
    sw = np.sqrt(np.broadcast_to(w, y.shape))
    lo, hi = BETA_BOUNDS
    th[:, 1] = np.clip(th[:, 1], lo, hi)
    th[:, 2] = np.maximum(th[:, 2], 0.0)
    r, J = _offset_rj(th, x, y, sw, scale)
    sse = (r ** 2).sum(1)
    lam = np.full(M, 1e-3)
    eye = np.eye(3)
    active = np.ones(M, dtype=bool)
    for _ in range(iters):
        a = np.flatnonzero(active)
        if a.size == 0:
            break
        Ja, ra = J[a], r[a]
        g = np.einsum("mk,mkj->mj", ra, Ja)
        H = np.einsum("mki,mkj->mij", Ja, Ja)
        # active set: a parameter at its bound whose descent direction leaves the box is
        # frozen for this step (projected Gauss-Newton), so the others still converge
        tha = th[a]
        frozen = np.zeros((a.size, 3), dtype=bool)
        frozen[:, 1] = ((tha[:, 1] <= lo) & (g[:, 1] < 0)) | ((tha[:, 1] >= hi) & (g[:, 1] > 0))
        frozen[:, 2] = (tha[:, 2] <= 0) & (g[:, 2] < 0)
        if frozen.any():
            keep = ~frozen
            H = H * keep[:, :, None] * keep[:, None, :] + frozen[:, :, None] * eye
            g = g * keep
        D = np.einsum("mii->mi", H)
        ridge = lam[a, None] * D + 1e-12 * (D.max(axis=1, keepdims=True) + 1e-300)
        A = H + ridge[:, :, None] * eye
        with np.errstate(all="ignore"):
            try:
                delta = np.linalg.solve(A, g[..., None])[..., 0]
            except np.linalg.LinAlgError:
                delta = (np.linalg.pinv(A) @ g[..., None])[..., 0]
        delta = np.where(np.isfinite(delta), delta, 0.0)
        new = tha + delta
        new[:, 1] = np.clip(new[:, 1], lo, hi)
        new[:, 2] = np.maximum(new[:, 2], 0.0)
        rn, Jn = _offset_rj(new, x, y[a], sw[a], scale[a])
        ssen = (rn ** 2).sum(1)
        better = ssen < sse[a]
        b = a[better]
        step = np.abs(new[better] - th[b]).max(axis=1) if better.any() else np.zeros(0)
        gain = sse[b] - ssen[better]
        th[b], r[b], J[b], sse[b] = new[better], rn[better], Jn[better], ssen[better]
        lam[b] = np.maximum(lam[b] / 3, 1e-12)
        wb = a[~better]
        lam[wb] *= 4
        done = np.zeros(M, dtype=bool)
        done[b] = (step < 1e-10) | (gain <= tol * (sse[b] + 1e-300))
        done[wb] = lam[wb] > 1e10
        active &= ~done
    return th, sse


def offset_starts(ybar, w, beta0):
    """(S, 3) multi-start grid for one problem: floors 0..90% of the smallest mean risk."""
    y_ref = (w * ybar).sum() / w.sum()
    starts = []
    for beta in sorted({float(np.clip(beta0, 0.05, 3.0)), 0.25, 0.5, 1.0, 2.0}):
        for u in (0.0, 0.3, 0.6, 0.9):
            lead = max(math.exp(y_ref) - u * math.exp(ybar[w > 0].min()), 0.05 * math.exp(y_ref))
            starts.append((math.log(lead), beta, u))
    return np.array(starts)
