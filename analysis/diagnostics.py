"""What a rate fit reports besides the exponent: local exponents, the curvature test,
the per-size table, per-draw exponents and whether optimisation limits the curve.

Each function works on one estimator ``e`` of a ``Layout`` with adjusted per-size means
``ya`` (K,), their bootstrap draws ``Ma`` (B, K) and weights ``w`` (K,).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .bootstrap import contrast_df
from .contrasts import quad_contrast, slope_contrasts
from .intervals import boot_se, t_interval, t_pvalue
from .layout import CAP_SHARE, GAP_RATIO

#: Default level of the curvature test (see ``curvature``): chosen on simulated curves
#: with known truth as the level that keeps false alarms on straight power laws at or
#: under 10% (7 sizes over 100..10000, 5 replicates, log-noise sd 0.15, 600 studies
#: each; ``benchmarks/bench_calibration.py --verdicts``): false alarms 4.7% / 8.8% /
#: 19.8% at levels 0.05 / 0.1 / 0.2; a local exponent drifting by +-0.15 over the range
#: is caught in 24% / 36% / 50% of the studies. Drifts this small are not reliably
#: detectable at this noise level; larger ones are (a drift of 0.6 with sd 0.05 is).
CURVATURE_ALPHA = 0.1

LOCAL_COLUMNS = ["n_low", "n_high", "exponent", "se", "df", "ci_low", "ci_high"]


def local_slopes(lay, ya, Ma, w, level) -> pd.DataFrame:
    """The exponent between consecutive fitted sizes, with ``level`` intervals."""
    x = lay.x
    idx, C = slope_contrasts(x, w)
    loc = C @ ya
    loc_se = boot_se(Ma @ C.T) if len(C) else np.zeros(0)
    rows = []
    for j in range(len(C)):
        d = contrast_df(lay, C[j], w)
        lo, hi = t_interval(loc[j], loc_se[j], d, level)
        rows.append({"n_low": int(lay.sizes[idx[j]]), "n_high": int(lay.sizes[idx[j + 1]]),
                     "exponent": float(loc[j]), "se": float(loc_se[j]), "df": d,
                     "ci_low": float(lo), "ci_high": float(hi)})
    return pd.DataFrame(rows, columns=LOCAL_COLUMNS)


def curvature(lay, ya, Ma, w, alpha=CURVATURE_ALPHA) -> dict:
    """Test for curvature of the log-log curve: the coefficient of (log n - mean)^2.

    Returns coef, se, t, df, p_value (two-sided) and flag: "saturation" (the curve
    flattens at large n), "pre-asymptotic" (it steepens) or None, at level ``alpha``.
    The default ``alpha`` was chosen on simulated curves with known truth
    (``benchmarks/bench_calibration.py --verdicts``), not on study results.
    """
    c2 = quad_contrast(lay.x, w)
    if c2 is None:
        return {"coef": math.nan, "se": math.nan, "t": math.nan, "df": math.nan,
                "p_value": math.nan, "flag": None, "alpha": float(alpha)}
    g = float(c2 @ ya)
    gse = float(boot_se(Ma @ c2))
    gdf = contrast_df(lay, c2, w, 3)
    p = t_pvalue(g, gse, gdf)
    flag = None
    if np.isfinite(p) and p < alpha:
        flag = "saturation" if g > 0 else "pre-asymptotic"
    return {"coef": g, "se": gse, "t": g / gse if gse > 0 else math.nan, "df": gdf,
            "p_value": p, "flag": flag, "alpha": float(alpha)}


def curvature_warning(curv: dict, floor_fitted: bool) -> list:
    """Plain-language caution for a significant curvature."""
    p = curv["p_value"]
    if curv["flag"] == "saturation" and not floor_fitted:
        return [f"curvature test: the log-log curve flattens at large n (p={p:.3g}), as "
                f"under an optimisation or approximation floor; the exponent is biased "
                f"low; consider method='offset'"]
    if curv["flag"] == "pre-asymptotic":
        return [f"curvature test: the log-log curve steepens at large n (p={p:.3g}): "
                f"pre-asymptotic behaviour; the local exponents at the largest sizes may "
                f"be more representative"]
    return []


def per_size(lay, e, fitted_log) -> pd.DataFrame:
    """Per-size summary over all sizes of the estimator (NaN where nothing was fitted).

    Columns: n, n_ok, n_failed, n_diverged, plateau (left out as trivial),
    mean_log_risk, sd_log_risk, geo_mean_risk, mean_risk, median_risk, fitted_risk, and
    mean train_loss / val_loss / opt_gap / fit_seconds and noise where known. Plateau
    sizes show their risks although they were not fitted.
    """
    Y = lay.Y[e].copy()
    rows = lay.rows[lay.rows["estimator"] == lay.estimators[e]]
    if lay.plateau[e].any():  # show the risks of the sizes left out too
        for r in rows[rows["n"].isin(lay.sizes[lay.plateau[e]])].itertuples():
            k = int(np.searchsorted(lay.sizes, r.n))
            u = int(np.flatnonzero((lay.units[:, 0] == r.draw)
                                   & (lay.units[:, 1] == r.replicate))[0])
            Y[k, u] = math.log(r.risk)
    m = (~np.isnan(Y)).sum(axis=1)
    ok, two = m > 0, m > 1
    mean, sd, mean_risk, med_risk = (np.full(len(m), np.nan) for _ in range(4))
    mean[ok] = np.nanmean(Y[ok], axis=1)
    sd[two] = np.nanstd(Y[two], axis=1, ddof=1)
    mean_risk[ok] = np.nanmean(np.exp(Y[ok]), axis=1)
    med_risk[ok] = np.nanmedian(np.exp(Y[ok]), axis=1)
    n_ok, n_failed, n_diverged = lay.status_counts[e]
    out = pd.DataFrame({"n": lay.sizes, "n_ok": n_ok, "n_failed": n_failed,
                        "n_diverged": n_diverged, "plateau": lay.plateau[e],
                        "mean_log_risk": mean, "sd_log_risk": sd,
                        "geo_mean_risk": np.exp(mean), "mean_risk": mean_risk,
                        "median_risk": med_risk, "fitted_risk": np.exp(fitted_log)})
    for col, arr in lay.extras[e].items():
        out[col if col == "noise" else f"mean_{col}"] = arr
    return out


def draw_exponents(lay, e, method, fit_exponent) -> pd.DataFrame:
    """The exponent fitted to each target draw on its own: columns draw, exponent,
    n_ok, n_sizes (NaN exponent for a draw with fits at fewer than 2 sizes). With one
    draw its exponent is the fit's."""
    draws = lay.draws
    rows = []
    for d in draws:
        Yd = lay.Y[e][:, lay.unit_draw == d]
        md = (~np.isnan(Yd)).sum(axis=1).astype(float)
        if len(draws) == 1:
            beta = fit_exponent
        elif (md > 0).sum() >= 2:
            ya = method.adjust(lay.ybar(Yd[None])[0][None], lay.x)
            beta = float(method.estimate(ya, lay.x, md)["exponent"][0])
        else:
            beta = math.nan
        rows.append({"draw": int(d), "exponent": beta, "n_ok": int(md.sum()),
                     "n_sizes": int((md > 0).sum())})
    return pd.DataFrame(rows, columns=["draw", "exponent", "n_ok", "n_sizes"])


def optimisation(lay, e, sizes) -> dict:
    """Is the curve limited by optimisation rather than by n? Over the fitted cells
    (ok rows at the fitted ``sizes``):

    cap_share
        share of the cells that record ``stopped_by`` whose training hit its step cap;
        above CAP_SHARE (10%) the training budget, not n, shapes part of the curve.
    gap_ratio
        median over cells of ``opt_gap`` / ``risk`` (``opt_gap`` = training MSE minus
        the noise variance; where the column is missing, train_loss - noise**2). For a
        fit with squared bias b and variance term v, E[train MSE] - sigma^2 ~ b - v and
        the excess risk ~ b + v, so the ratio is (b - v) / (b + v): near 0 where bias
        and variance balance, as a rate-optimal fit does, and above GAP_RATIO = 0.5
        exactly when b > 3 v, i.e. when most of the risk is error the estimator does not
        fit away even on its training data (underfitting by optimisation or capacity).
        Only cells trained by an optimiser (those recording ``stopped_by``) count: an
        estimator fitted in closed form or by a search (k-NN, kernel ridge, the oracle's
        least squares) has no optimisation to fail, and its training error is part of
        the statistical error whose rate is being measured.

    Returns cap_share, n_stopped (cells recording stopped_by), gap_ratio, n_gap,
    limited (bool) and why (list of plain-language reasons). NaN where not recorded.
    """
    rows = lay.rows[(lay.rows["estimator"] == lay.estimators[e]) & lay.rows["n"].isin(sizes)]
    stopped = rows["stopped_by"].fillna("").astype(str)
    recorded = stopped[stopped != ""]
    cap_share = float((recorded == "cap").mean()) if len(recorded) else math.nan
    trained = rows[(stopped != "").to_numpy()]
    gap = pd.to_numeric(trained["opt_gap"], errors="coerce").to_numpy(dtype=float)
    fallback = (pd.to_numeric(trained["train_loss"], errors="coerce")
                - pd.to_numeric(trained["noise"], errors="coerce") ** 2).to_numpy(dtype=float)
    gap = np.where(np.isfinite(gap), gap, fallback)
    ratio = gap / trained["risk"].to_numpy(dtype=float)
    ratio = ratio[np.isfinite(ratio)]
    gap_ratio = float(np.median(ratio)) if len(ratio) else math.nan
    why = []
    if cap_share > CAP_SHARE:
        why.append(f"{cap_share:.0%} of the fitted cells stopped at their training cap "
                   f"(more than {CAP_SHARE:.0%})")
    if gap_ratio > GAP_RATIO:
        why.append(f"the median optimisation gap (training MSE minus noise variance) is "
                   f"{gap_ratio:.2f} of the risk (more than {GAP_RATIO:g}): the risk is "
                   f"mostly error the estimator does not fit on its training data")
    return {"cap_share": cap_share, "n_stopped": int(len(recorded)), "gap_ratio": gap_ratio,
            "n_gap": int(len(ratio)), "limited": bool(why), "why": why}


#: Share of a fit's neural cells whose chosen learning rate sits at an edge of the final
#: grid (column ``lr_edge``) above which the curve is "lr-limited".
LR_EDGE_SHARE = 0.1


def lr_edges(lay, e, sizes) -> dict:
    """How many fitted cells chose a learning rate at an edge of their final grid.

    Returns lr_edge_share (NaN when no cell records ``lr_edge``), n_lr (cells recording
    it) and lr_limited (share above LR_EDGE_SHARE: the best rate may lie outside the grid,
    so the risk reflects the grid as much as n).
    """
    rows = lay.rows[(lay.rows["estimator"] == lay.estimators[e]) & lay.rows["n"].isin(sizes)]
    if "lr_edge" not in rows:
        return {"lr_edge_share": math.nan, "n_lr": 0, "lr_limited": False}
    if "lr_grid" in rows:  # the schema fills lr_edge with False where nothing was recorded:
        # only cells that record the grid they ended with say where their rate sits
        rows = rows[rows["lr_grid"].fillna("").astype(str).str.strip() != ""]
    edge = rows["lr_edge"].dropna().astype(str).str.lower()
    edge = edge[edge != ""].isin(("true", "1", "1.0"))
    share = float(edge.mean()) if len(edge) else math.nan
    return {"lr_edge_share": share, "n_lr": int(len(edge)),
            "lr_limited": bool(share > LR_EDGE_SHARE)}
