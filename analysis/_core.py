"""Shared machinery of the rate fits: table preparation, the unit bootstrap, contrasts.

Everything the fits report is a function of the *per-size means of log risk*,
``ybar_k`` (k over sample sizes), weighted by the number of successful fits
``m_k`` at each size (so the weighted fit on means equals least squares on the
raw rows). The bootstrap therefore only has to draw per-size means; each method
turns a (B, K) matrix of bootstrap means into its statistics.

Bootstrap (``boot_means``), by independence structure of the table:

``stratified``
    the training data of every (n, replicate) cell is independent: units are
    the replicates *within each n*, resampled per size. Following Rao & Wu
    (1988, JASA 83:231), m_k - 1 units are drawn with replacement out of the
    m_k at size k: the bootstrap variance of every linear statistic then equals
    the unbiased within-size variance estimate (the naive m-out-of-m bootstrap
    shrinks it by (m - 1)/m, a factor 0.8 in variance for 5 replicates).
``curves``
    replicates share training data across n (nested data): a replicate's
    whole curve is one unit; G - 1 of the G curves are drawn.
``residual``
    fewer than 2 units somewhere, so no within-size variance exists: residuals
    of the fitted curve, inflated by sqrt(N / (N - p)), are resampled over all
    cells. This assumes the fitted form and a constant variance.

Intervals are ``estimate +- t_{df} * SE_boot``: the bootstrap supplies an
(unbiased, heteroscedasticity-robust) standard error, and the t quantile
accounts for the uncertainty of that standard error, which with 5 replicates
per size is large. Degrees of freedom: for ``stratified`` the Bell-McCaffrey
(2002) / Satterthwaite value of the statistic's linear contrast c under
constant variance, ``(sum a_k)^2 / sum a_k^2 / (m_k - 1)`` with
``a_k = c_k^2 / m_k`` (16 for the slope with 7 sizes x 5 replicates, 8 with
3 replicates; it depends on the design only, as Imbens & Kolesar (2016,
REStat 98:701) recommend); ``G - 1`` for ``curves``; ``N - p`` for
``residual``.

Measured (``benchmarks/bench_calibration.py``: 7 sizes over 100..10000, log-normal
noise, 1,000 simulations each, nominal 95%): coverage 0.948 / 0.942 / 0.948 with
3 / 5 / 10 replicates (bias under 0.002), 0.963 with t(3) noise and 0.950 for
nested curves; the naive percentile bootstrap (m of m replicates, percentile interval, neither
correction) covers 0.832 / 0.892 / 0.923.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from .schema import validate_results

class InsufficientData(ValueError):
    """Too few successful fits to estimate a rate (a ValueError)."""


def _names(values) -> str:
    return ", ".join(repr(v) for v in values)


def _resolve(values: pd.Series, name: str, kind: str) -> str:
    known = sorted(pd.unique(values.astype(str)))
    if name is None:
        if len(known) != 1:
            raise ValueError(f"results hold {len(known)} {kind}s ({_names(known)}): "
                             f"pass {kind}= to choose one")
        return known[0]
    if str(name) not in known:
        raise ValueError(f"unknown {kind} {name!r}; the results hold: {_names(known)}")
    return str(name)


def select(results: pd.DataFrame, target, estimators):
    """Validate ``results`` and return (rows of target and estimators, target, estimators).

    ``nprates.estimators`` is a list of names or Nones (None: the only estimator of the target).
    """
    df = validate_results(results)
    df["target"] = df["target"].astype(str)
    df["estimator"] = df["estimator"].astype(str)
    target = _resolve(df["target"], target, "target")
    df = df[df["target"] == target]
    names = [_resolve(df["estimator"], e, "estimator") for e in estimators]
    sub = df[df["estimator"].isin(names)]
    if (sub["n"] <= 0).any():
        raise ValueError("results column 'n' must hold positive sample sizes; got "
                         f"{sorted(set(sub.loc[sub['n'] <= 0, 'n']))}")
    ok = sub["status"] == "ok"
    risk = sub["risk"].to_numpy(dtype=float)
    bad = ok.to_numpy() & ~(np.isfinite(risk) & (risk > 0))
    if bad.any():
        rows = sub[bad]
        where = "; ".join(f"estimator={r.estimator} n={r.n} replicate={r.replicate} "
                          f"risk={r.risk}" for r in rows.head(5).itertuples())
        more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
        raise ValueError(f"results column 'risk' must be finite and positive where status "
                         f"is 'ok'; bad row(s): {where}{more} (mark failed fits with status "
                         f"'failed' or 'diverged')")
    dup = sub.duplicated(["estimator", "n", "replicate"], keep=False)
    if dup.any():
        r = sub[dup].iloc[0]
        raise ValueError(f"results hold duplicate rows for estimator={r.estimator} n={r.n} "
                         f"replicate={r.replicate}: each (estimator, n, replicate) cell must "
                         f"appear once")
    return sub, target, names


@dataclass
class Layout:
    """Log risks of one target and one or more estimators on a (size x replicate) grid.

    Sizes are all sizes present for these estimators, also those where every fit
    failed (their weight is 0 everywhere).
    """

    target: str
    estimators: list
    sizes: np.ndarray          # (K,)
    units: np.ndarray          # (U,) replicate labels
    Y: np.ndarray              # (E, K, U) log risk; NaN = failed or absent
    mode: str                  # stratified | curves | residual
    status_counts: np.ndarray  # (E, 3, K) rows with status ok, failed, diverged
    extras: list               # per estimator: {column: (K,) mean over ok rows}
    theory_exponent: float
    rows: pd.DataFrame         # the selected ok rows (for the statsmodels second opinion)
    warnings: list = field(default_factory=list)

    @property
    def x(self) -> np.ndarray:
        return np.log(self.sizes.astype(float))

    @property
    def valid(self) -> np.ndarray:
        return ~np.isnan(self.Y)

    @property
    def m(self) -> np.ndarray:
        """(E, K) number of successful fits per estimator and size."""
        return self.valid.sum(axis=2)

    def ybar(self) -> np.ndarray:
        """(E, K) mean log risk; 0 where an estimator has no fit at a size (weight 0)."""
        m = self.m
        s = np.where(self.valid, self.Y, 0.0).sum(axis=2)
        return np.divide(s, m, out=np.zeros_like(s), where=m > 0)

    @property
    def n_groups(self) -> int:
        return int(self.valid.any(axis=(0, 1)).sum())


def _nested(rep, n, seed) -> bool:
    """Does some replicate use one data_seed at several sizes?"""
    seen: dict = {}
    for r, k, s in zip(rep, n, seed):
        if s and s not in ("nan", "None"):
            first = seen.setdefault((r, s), k)
            if first != k:
                return True
    return False


def layout(results: pd.DataFrame, target=None, estimators=(None,)) -> Layout:
    sub, target, names = select(results, target, list(estimators))
    warnings: list = []
    est = sub["estimator"].to_numpy()
    n = sub["n"].to_numpy(dtype=np.int64)
    rep = sub["replicate"].to_numpy(dtype=np.int64)
    status = sub["status"].astype(str).to_numpy()
    risk = sub["risk"].to_numpy(dtype=float)
    sizes, ki = np.unique(n, return_inverse=True)
    units, ui = np.unique(rep, return_inverse=True)
    E, K, U = len(names), len(sizes), len(units)
    ei = np.zeros(len(sub), dtype=int)
    for e, name in enumerate(names):
        ei[est == name] = e
    counts = np.zeros((E, 3, K), dtype=np.int64)
    for j, s in enumerate(("ok", "failed", "diverged")):
        sel = status == s
        np.add.at(counts[:, j], (ei[sel], ki[sel]), 1)
    ok = status == "ok"
    Y = np.full((E, K, U), np.nan)
    Y[ei[ok], ki[ok], ui[ok]] = np.log(risk[ok])
    extras = [{} for _ in names]
    for col in ("train_loss", "val_loss", "noise", "fit_seconds"):
        vals = pd.to_numeric(sub[col], errors="coerce").to_numpy(dtype=float)
        use = ok & np.isfinite(vals)
        if not use.any():
            continue
        tot = np.zeros((E, K))
        cnt = np.zeros((E, K))
        np.add.at(tot, (ei[use], ki[use]), vals[use])
        np.add.at(cnt, (ei[use], ki[use]), 1)
        for e in range(E):
            if cnt[e].any():
                extras[e][col] = np.divide(tot[e], cnt[e], out=np.full(K, np.nan),
                                           where=cnt[e] > 0)
    for e, name in enumerate(names):
        n_ok, n_f, n_d = counts[e]
        for k in np.flatnonzero((n_ok == 0) & (n_f + n_d > 0)):
            warnings.append(f"{name}: no successful fit at n={sizes[k]} ({n_f[k]} failed, "
                            f"{n_d[k]} diverged); that size is left out")
        got = sizes[n_ok > 0]
        if len(got) < 2:
            raise InsufficientData(
                f"estimator {name!r} on target {target!r}: a rate needs successful fits at "
                f">= 2 distinct sample sizes (column 'n'); got {len(got)}"
                + (f" (n={got.tolist()})" if len(got) else ""))
    th = pd.to_numeric(sub["theory_exponent"], errors="coerce").dropna().unique()
    theory = float(np.median(th)) if len(th) else math.nan
    if len(th) > 1:
        warnings.append(f"column 'theory_exponent' is not constant within target {target!r} "
                        f"({sorted(th)}); using the median {theory:.4g}")
    lay = Layout(target=target, estimators=names, sizes=sizes, units=units, Y=Y,
                 mode="stratified", status_counts=counts, extras=extras,
                 theory_exponent=theory, rows=sub[ok], warnings=warnings)
    per_size = lay.valid.any(axis=0).sum(axis=1)
    used = per_size > 0
    if _nested(rep, n, sub["data_seed"].astype(str).to_numpy()):
        lay.mode = "curves" if lay.n_groups >= 2 else "residual"
        if lay.mode == "residual":
            warnings.append("replicates share training data across n but there is only one "
                            "replicate curve: the interval treats sizes as independent")
    elif per_size[used].min() < 2:
        lay.mode = "residual"
        thin = sizes[used & (per_size < 2)].tolist()
        warnings.append(f"fewer than 2 successful replicates at n={thin}: the interval "
                        f"resamples residuals and assumes the fitted form and a constant "
                        f"variance")
    fitted_sizes = sizes[used]
    span = math.log10(fitted_sizes[-1] / fitted_sizes[0])
    if len(fitted_sizes) < 4:
        warnings.append(f"only {len(fitted_sizes)} sample sizes (fewer than 4): the exponent "
                        f"and its interval rest on very few points and curvature cannot be "
                        f"judged well")
    if span < 1:
        warnings.append(f"the sample sizes span {span:.2f} decades (less than one): the "
                        f"exponent is poorly determined and may be pre-asymptotic")
    return lay


# --------------------------------------------------------------------------- bootstrap

def boot_means(lay: Layout, B: int, rng: np.random.Generator, fitted=None,
               n_params: int = 2) -> np.ndarray:
    """(E, B, K) bootstrap per-size means of log risk (see the module docstring).

    ``fitted`` (E, K): per-size fitted values, needed for the residual bootstrap.
    A bootstrap mean with no successful fit among the drawn units falls back to the
    original mean (it can only happen with failed fits in curve resampling).
    """
    Y, valid = lay.Y, lay.valid
    E, K, U = Y.shape
    Y0 = np.where(valid, Y, 0.0)
    ybar = lay.ybar()
    if lay.mode == "stratified":
        s = np.empty((E, B, K))
        c = np.empty((E, B, K))
        anyv = valid.any(axis=0)
        for k in range(K):
            cols = np.flatnonzero(anyv[k])
            if len(cols) == 0:
                s[:, :, k] = c[:, :, k] = 0.0
                continue
            idx = cols[rng.integers(0, len(cols), size=(B, len(cols) - 1))]
            s[:, :, k] = Y0[:, k, idx].sum(-1)
            c[:, :, k] = valid[:, k, idx].sum(-1)
    elif lay.mode == "curves":
        cols = np.flatnonzero(valid.any(axis=(0, 1)))
        idx = cols[rng.integers(0, len(cols), size=(B, len(cols) - 1))]
        s = Y0[:, :, idx].sum(-1).transpose(0, 2, 1)
        c = valid[:, :, idx].sum(-1).transpose(0, 2, 1).astype(float)
    elif lay.mode == "residual":
        if fitted is None:
            raise RuntimeError("residual bootstrap needs fitted values")
        resid = np.where(valid, Y - fitted[:, :, None], 0.0)
        N = valid.sum(axis=(1, 2))
        scale = np.sqrt(N / np.maximum(N - n_params, 1))
        joint = valid.all(axis=0).ravel()
        src = np.flatnonzero(joint) if joint.any() else np.flatnonzero(valid.any(axis=0).ravel())
        draws = src[rng.integers(0, len(src), size=(B, K * U))]
        r = resid.reshape(E, K * U)[:, draws].reshape(E, B, K, U) * scale[:, None, None, None]
        ystar = fitted[:, None, :, None] + r
        s = np.where(valid[:, None], ystar, 0.0).sum(-1)
        c = np.broadcast_to(valid.sum(-1)[:, None, :], (E, B, K)).astype(float)
    else:  # pragma: no cover
        raise ValueError(f"unknown resampling mode {lay.mode!r}")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = s / c
    fill = np.broadcast_to(ybar[:, None, :], out.shape)
    return np.where(c > 0, out, fill)


# --------------------------------------------------------------------------- contrasts

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
    """Contrast for the coefficient of (log n - mean)^2 in a weighted quadratic fit."""
    use = w > 0
    if use.sum() < 3:
        return None
    xbar = (w * x).sum() / w.sum()
    u = x - xbar
    X = np.column_stack([np.ones_like(u), u, u ** 2])
    XtW = X.T * w
    return np.linalg.solve(XtW @ X, XtW)[2]


def slope_contrasts(x: np.ndarray, w: np.ndarray):
    """(K-1, K) contrasts: local exponents between consecutive sizes with fits."""
    idx = np.flatnonzero(w > 0)
    C = np.zeros((max(len(idx) - 1, 0), len(x)))
    for j, (a, b) in enumerate(zip(idx[:-1], idx[1:])):
        C[j, a] = 1.0 / (x[b] - x[a])
        C[j, b] = -1.0 / (x[b] - x[a])
    return idx, C


def bm_df(c: np.ndarray, m: np.ndarray) -> float:
    """Bell-McCaffrey / Satterthwaite degrees of freedom of sum_k c_k^2 s_k^2 / m_k."""
    use = (m > 1) & (c != 0)
    if not use.any():
        return math.nan
    a = c[use] ** 2 / m[use]
    return float(a.sum() ** 2 / (a ** 2 / (m[use] - 1)).sum())


def contrast_df(lay: Layout, c: np.ndarray, m: np.ndarray, n_params: int = 2) -> float:
    if lay.mode == "stratified":
        return bm_df(c, m)
    if lay.mode == "curves":
        return float(lay.n_groups - 1)
    return float(max(m.sum() - n_params, 1))


def t_quantile(p, df):
    """Quantile of Student's t (normal when df is infinite or NaN)."""
    return float(special.stdtrit(df, p)) if np.isfinite(df) else float(special.ndtri(p))


def t_cdf(t, df):
    return float(special.stdtr(df, t)) if np.isfinite(df) else float(special.ndtr(t))


def t_interval(est, se, df, level):
    q = t_quantile(0.5 + level / 2, df)
    return est - q * se, est + q * se


def t_pvalue(est, se, df, null=0.0):
    """Two-sided p-value of est = null."""
    if not (np.isfinite(se) and se > 0):
        return math.nan
    return 2 * t_cdf(-abs(est - null) / se, df)


def boot_se(draws: np.ndarray, robust: bool = False) -> np.ndarray:
    """Standard error from bootstrap draws (axis 0); ``robust``: normalised IQR."""
    if robust:
        q75, q25 = np.nanpercentile(draws, [75, 25], axis=0)
        return (q75 - q25) / (2 * special.ndtri(0.75))
    return np.nanstd(draws, axis=0, ddof=1)


# --------------------------------------------------------------------------- offset model

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
